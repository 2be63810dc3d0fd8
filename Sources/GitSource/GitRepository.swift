import CGit2
import Foundation

/// An open repository. Not thread-safe: confine each instance to one task or actor;
/// only value types (ids, commits, changes) leave it.
public final class GitRepository {
    let pointer: OpaquePointer
    /// The repository's directory (the `.git` directory for a non-bare repository).
    public let path: String

    private init(pointer: OpaquePointer) {
        self.pointer = pointer
        self.path = git_repository_path(pointer).map { String(cString: $0) } ?? ""
    }

    deinit {
        git_repository_free(pointer)
    }

    /// Opens an existing repository, bare or not.
    public static func open(at path: String) throws -> GitRepository {
        ensureLibgit2()
        var repository: OpaquePointer?
        try check(git_repository_open(&repository, path), "open repository \(path)")
        guard let repository else {
            throw GitError(.notARepository, operation: "open repository \(path)", message: "no repository")
        }
        return GitRepository(pointer: repository)
    }

    /// Creates an empty bare repository (or opens the one already there).
    public static func initBare(at path: String) throws -> GitRepository {
        ensureLibgit2()
        var repository: OpaquePointer?
        try check(git_repository_init(&repository, path, 1), "create repository \(path)")
        guard let repository else { throw GitError(.other, operation: "create repository \(path)", message: "no repository") }
        return GitRepository(pointer: repository)
    }

    /// The commit a local branch points at.
    public func resolveBranch(_ name: String) throws -> ObjectID {
        var oid = git_oid()
        let code = git_reference_name_to_id(&oid, pointer, "refs/heads/\(name)")
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(.unknownBranch, operation: "resolve branch", message: "no branch '\(name)' in \(path)", code: code)
        }
        try check(code, "resolve branch \(name)")
        return ObjectID(oid)
    }

    /// The tips of all local branches, by branch name.
    public func branchTips() throws -> [String: ObjectID] {
        var names = git_strarray()
        try check(git_reference_list(&names, pointer), "list references")
        defer { git_strarray_dispose(&names) }
        var tips: [String: ObjectID] = [:]
        for index in 0..<names.count {
            guard let raw = names.strings[index] else { continue }
            let name = String(cString: raw)
            guard name.hasPrefix("refs/heads/") else { continue }
            var oid = git_oid()
            if git_reference_name_to_id(&oid, pointer, name) == 0 {
                tips[String(name.dropFirst("refs/heads/".count))] = ObjectID(oid)
            }
        }
        return tips
    }

    /// Whether `ancestor` is reachable from `descendant` (or equal to it).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) throws -> Bool {
        if ancestor == descendant { return true }
        var commit = descendant.oid
        var base = ancestor.oid
        return try check(git_graph_descendant_of(pointer, &commit, &base), "compare history") == 1
    }

    /// Whether the object exists in this repository and is a commit.
    public func containsCommit(_ id: ObjectID) -> Bool {
        (try? withCommit(id) { _ in true }) ?? false
    }

    /// Metadata of one commit.
    public func commit(_ id: ObjectID) throws -> CommitInfo {
        try withCommit(id) { commit in
            let parents = (0..<git_commit_parentcount(commit)).compactMap { index in
                git_commit_parent_id(commit, index).map(ObjectID.init)
            }
            guard let tree = git_commit_tree_id(commit), let author = git_commit_author(commit),
                let committer = git_commit_committer(commit)
            else { throw GitError(.other, operation: "read commit \(id.short)", message: "incomplete commit") }
            return CommitInfo(
                id: id, tree: ObjectID(tree), parents: parents, author: Person(author), committer: Person(committer),
                message: git_commit_message(commit).map { String(cString: $0) } ?? "")
        }
    }

    /// Commits reached by following first parents from `tip`, newest first, stopping before
    /// `stop` (exclusive) or after `limit` commits.
    public func firstParentHistory(from tip: ObjectID, stopBefore stop: ObjectID? = nil, limit: Int = .max) throws -> [ObjectID] {
        var history: [ObjectID] = []
        var current: ObjectID? = tip
        while let id = current, id != stop, history.count < limit {
            history.append(id)
            current = try withCommit(id) { commit in
                git_commit_parentcount(commit) > 0 ? git_commit_parent_id(commit, 0).map(ObjectID.init) : nil
            }
        }
        return history
    }

    func withCommit<T>(_ id: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var oid = id.oid
        var commit: OpaquePointer?
        let code = git_commit_lookup(&commit, pointer, &oid)
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(.notFound, operation: "look up commit", message: "no commit \(id.hex) in \(path)", code: code)
        }
        try check(code, "look up commit \(id.short)")
        guard let commit else { throw GitError(.notFound, operation: "look up commit", message: id.hex) }
        defer { git_commit_free(commit) }
        return try body(commit)
    }

    func withTree<T>(of id: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        try withCommit(id) { commit in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, commit), "read tree of \(id.short)")
            guard let tree else { throw GitError(.notFound, operation: "read tree", message: id.hex) }
            defer { git_tree_free(tree) }
            return try body(tree)
        }
    }
}
