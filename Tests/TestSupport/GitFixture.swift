import Foundation

/// A working repository made with the git CLI, for tests that need real history.
public final class GitFixture: @unchecked Sendable {
    public let scratch: Scratch
    public let path: String
    static let identity = [
        "GIT_AUTHOR_NAME": "Dev One", "GIT_AUTHOR_EMAIL": "dev@acme.test",
        "GIT_COMMITTER_NAME": "Dev One", "GIT_COMMITTER_EMAIL": "dev@acme.test",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent-home",
    ]

    public init(branch: String = "main") throws {
        scratch = try Scratch("pa-git")
        path = scratch.sub("work")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git("init", "-q", "-b", branch)
    }

    /// Runs git in the working repository with a fixed identity.
    @discardableResult
    public func git(_ arguments: String..., environment: [String: String] = [:]) throws -> String {
        let result = try runProcess(
            ["git"] + arguments, in: path, environment: Self.identity.merging(environment) { _, new in new })
        guard result.status == 0 else { throw CommandFailed(command: ["git"] + arguments, result: result) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes files and commits them; returns the new commit id.
    @discardableResult
    public func commit(_ message: String, files: [String: String], author: String? = nil) throws -> String {
        for (relative, text) in files {
            let url = URL(fileURLWithPath: "\(path)/\(relative)")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try git("add", "-A")
        var environment: [String: String] = [:]
        if let author { environment["GIT_AUTHOR_EMAIL"] = author }
        try git("commit", "-q", "-m", message, environment: environment)
        return try git("rev-parse", "HEAD")
    }

    /// A bare clone next to the working repository, as a "team repository" to watch.
    public func bareClone(named name: String = "team.git") throws -> String {
        let bare = scratch.sub(name)
        try sh("git", "clone", "-q", "--bare", path, bare)
        return bare
    }
}
