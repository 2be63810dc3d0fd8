import Foundation
import GitSource
import SpecModel

/// Where candidates are checked out for steps, checks and health commands: a directory of the agent's
/// (0711: others may enter a directory whose name they know, but not list or create), holding one
/// fresh directory per use with an unguessable name, owned by the user who runs in it and removed after.
public struct CheckoutArea: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// A new path under the root that nobody can predict (128 random bits); not created yet.
    public func newPath() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "\(root)/\(bytes.hexString)"
    }

    /// Checks `candidate` out into `path` (which must not exist: a directory someone else made is never
    /// used) and hands it to `owner`. An existing directory is reused only when `resume` says it is this
    /// promotion's own. `only` (the stage's `checkout`) limits the files written.
    public func materialize(
        _ candidate: String, into path: String, from repository: GitRepository, owner: StepUser?,
        only: CheckoutSpec? = nil, resume: Bool = false
    ) throws {
        if resume, FileManager.default.fileExists(atPath: path) { return }
        try prepareRoot()
        guard mkdir(path, 0o700) == 0 else {
            throw GitError(.other, operation: "check out", message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard let id = ObjectID(hex: candidate) else {
            throw GitError(.invalidArgument, operation: "check out", message: "\(candidate) is not a commit id")
        }
        let files = try only.map { try Self.files(matching: $0.pathGlobs, in: id, of: repository) }
        try repository.materialize(id, into: path, files: files)
        if let owner { try hand(path, to: owner) }
    }

    /// The files of `commit` some glob matches, found under each glob's literal prefix only.
    static func files(matching globs: [PathGlob], in commit: ObjectID, of repository: GitRepository) throws -> [String] {
        var found = Set<String>()
        for glob in globs {
            for entry in try repository.tree(under: glob.literalPrefix, in: commit) where glob.matches(entry.path) {
                found.insert(entry.path)
            }
            // A literal prefix may name a file rather than a directory.
            if !glob.literalPrefix.isEmpty, let kind = try repository.kind(at: glob.literalPrefix, in: commit), kind != .tree,
                glob.matches(glob.literalPrefix)
            {
                found.insert(glob.literalPrefix)
            }
        }
        return found.sorted()
    }

    /// Removes a checkout; a failure leaves it for the next start's sweep, never stops the agent.
    public func remove(_ path: String) {
        guard path.hasPrefix(root + "/") else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes every checkout: at start, once the unfinished promotions are recovered, nothing may use one
    /// (a crash between making and removing a checkout leaves it behind). `legacy` is where earlier versions
    /// kept theirs (`<state>/work`, never cleaned up).
    public func removeAll(legacy: String? = nil) {
        let manager = FileManager.default
        for entry in (try? manager.contentsOfDirectory(atPath: root)) ?? [] {
            try? manager.removeItem(atPath: "\(root)/\(entry)")
        }
        if let legacy { try? manager.removeItem(atPath: legacy) }
    }

    /// Checks `candidate` out, runs `body` in it, removes it.
    func withCheckout<T>(
        _ candidate: String, from repository: GitRepository, owner: StepUser?, only: CheckoutSpec?,
        _ body: (String?) -> T
    ) -> T {
        let path = newPath()
        defer { remove(path) }
        let made = (try? materialize(candidate, into: path, from: repository, owner: owner, only: only)) != nil
        return body(made ? path : nil)
    }

    /// The root, 0711 and the agent's: a step cannot list it or plant a directory in it.
    private func prepareRoot() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        guard chmod(root, 0o711) == 0 else {
            throw GitError(.other, operation: "check out", message: "cannot chmod \(root): \(String(cString: strerror(errno)))")
        }
    }

    /// Gives every file of the checkout to the user who runs in it (never following a link).
    private func hand(_ path: String, to owner: StepUser) throws {
        guard lchown(path, owner.uid, owner.gid) == 0 else {
            throw GitError(.other, operation: "check out", message: "cannot chown \(path): \(String(cString: strerror(errno)))")
        }
        guard let walker = FileManager.default.enumerator(atPath: path) else { return }
        for case let relative as String in walker {
            guard lchown("\(path)/\(relative)", owner.uid, owner.gid) == 0 else {
                throw GitError(
                    .other, operation: "check out", message: "cannot chown \(relative): \(String(cString: strerror(errno)))")
            }
        }
    }
}
