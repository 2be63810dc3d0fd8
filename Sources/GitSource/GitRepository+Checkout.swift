import CGit2
import Foundation

extension GitRepository {
    /// Writes the files of `commit` into `directory`, which must not exist yet or be empty,
    /// so a promotion always starts from exactly the candidate's content.
    public func materialize(_ commit: ObjectID, into directory: String) throws {
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
        try withCommit(commit) { handle in
            var options = git_checkout_options()
            git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION))
            options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
            try directory.withCString { target in
                options.target_directory = target
                try check(git_checkout_tree(pointer, handle, &options), "check out \(commit.short) into \(directory)")
            }
        }
    }
}
