import CGit2
import Foundation

extension GitRepository {
    /// Writes the files of `commit` into `directory`, which must not exist yet or be empty,
    /// so a promotion always starts from exactly the candidate's content. `files` (exact paths)
    /// limits what is written; an empty list writes nothing.
    public func materialize(_ commit: ObjectID, into directory: String, files: [String]? = nil) throws {
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: directory), !existing.isEmpty {
            throw GitError(
                .invalidArgument, operation: "check out \(commit.short)",
                message: "\(directory) is not empty; a candidate checkout needs a clean directory")
        }
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw GitError(.other, operation: "check out \(commit.short)", message: "cannot create \(directory): \(error)")
        }
        if let files, files.isEmpty { return }
        try withCommit(commit) { handle in
            var options = git_checkout_options()
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
            options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
            if files != nil { options.checkout_strategy |= GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue }
            try directory.withCString { target in
                options.target_directory = target
                try withStringArray(files ?? []) { paths in
                    options.paths = paths
                    try check(git_checkout_tree(pointer, handle, &options), "check out \(commit.short) into \(directory)")
                }
            }
        }
    }

    /// `strings` as a `git_strarray` that lives for the duration of `body`.
    private func withStringArray(_ strings: [String], _ body: (git_strarray) throws -> Void) throws {
        let pointers = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        var mutable: [UnsafeMutablePointer<CChar>?] = pointers
        try mutable.withUnsafeMutableBufferPointer { buffer in
            try body(git_strarray(strings: buffer.baseAddress, count: buffer.count))
        }
    }
}
