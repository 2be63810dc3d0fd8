import CGit2
import Foundation

extension GitRepository {
    /// Paths that differ between two commits; `old == nil` compares against an empty tree. Renames are
    /// detected (both names reported in one change) unless `detectRenames` is false: then a rename is a
    /// deletion and an addition, the same set of paths without reading any file to compare them.
    public func changedPaths(from old: ObjectID?, to new: ObjectID, detectRenames: Bool = true) throws -> [ChangedPath] {
        try withTree(of: new) { newTree in
            guard let old else { return try diff(nil, newTree, detectRenames: detectRenames) }
            return try withTree(of: old) { oldTree in try diff(oldTree, newTree, detectRenames: detectRenames) }
        }
    }

    /// Paths a commit changed relative to its first parent (all its files for a root commit).
    public func changedPaths(in commit: ObjectID) throws -> [ChangedPath] {
        try changedPaths(from: self.commit(commit).parents.first, to: commit)
    }

    private func diff(_ oldTree: OpaquePointer?, _ newTree: OpaquePointer, detectRenames: Bool) throws -> [ChangedPath] {
        var options = git_diff_options()
        git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION))
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, pointer, oldTree, newTree, &options), "compare trees")
        guard let diff else { return [] }
        defer { git_diff_free(diff) }
        if detectRenames {
            var find = git_diff_find_options()
            git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION))
            find.flags = GIT_DIFF_FIND_RENAMES.rawValue
            try check(git_diff_find_similar(diff, &find), "detect renames")
        }
        return (0..<git_diff_num_deltas(diff)).compactMap { index in
            git_diff_get_delta(diff, index).map { ChangedPath($0.pointee) }
        }
    }

    /// The bytes of the file at `path` in `commit`, or nil when there is no such file.
    /// Throws `.tooLarge` for files over `maxBytes` without reading them.
    public func blob(at path: String, in commit: ObjectID, maxBytes: Int = .max) throws -> Data? {
        try withEntry(at: path, in: commit) { entry in
            guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB, let id = git_tree_entry_id(entry) else { return nil }
            return try blob(ObjectID(id), path: path, maxBytes: maxBytes)
        }
    }

    /// What `path` is in `commit`, or nil when nothing is there.
    public func kind(at path: String, in commit: ObjectID) throws -> EntryKind? {
        try withEntry(at: path, in: commit) { EntryKind(git_tree_entry_filemode($0)) }
    }

    /// `body` with the tree entry at `path` in `commit`; nil when there is none.
    private func withEntry<T>(at path: String, in commit: ObjectID, _ body: (OpaquePointer) throws -> T?) throws -> T? {
        try withTree(of: commit) { tree in
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, tree, path)
            if code == GIT_ENOTFOUND.rawValue { return nil }
            try check(code, "find \(path) in \(commit.short)")
            guard let entry else { return nil }
            defer { git_tree_entry_free(entry) }
            return try body(entry)
        }
    }

    /// The bytes of a blob by id.
    public func blob(_ id: ObjectID, path: String = "", maxBytes: Int = .max) throws -> Data {
        var oid = id.oid
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &oid), "read blob \(path.isEmpty ? id.short : path)")
        guard let blob else { throw GitError(.notFound, operation: "read blob", message: id.hex) }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size <= maxBytes else {
            throw GitError(.tooLarge, operation: "read \(path)", message: "\(size) bytes, over the limit of \(maxBytes)")
        }
        guard size > 0, let raw = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: raw, count: size)
    }

    /// Files under `prefix` (a directory path, "" for the root) in `commit`, recursively.
    /// An absent prefix yields no entries.
    public func tree(under prefix: String, in commit: ObjectID) throws -> [TreeEntry] {
        let cleaned = prefix.split(separator: "/").joined(separator: "/")
        return try withTree(of: commit) { root in
            guard !cleaned.isEmpty else { return try walk(root, prefix: "") }
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, root, cleaned)
            if code == GIT_ENOTFOUND.rawValue { return [] }
            try check(code, "find \(cleaned) in \(commit.short)")
            guard let entry else { return [] }
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return [] }
            var subtree: OpaquePointer?
            try check(git_tree_lookup(&subtree, pointer, git_tree_entry_id(entry)), "read tree \(cleaned)")
            guard let subtree else { return [] }
            defer { git_tree_free(subtree) }
            return try walk(subtree, prefix: cleaned + "/")
        }
    }

    private func walk(_ tree: OpaquePointer, prefix: String) throws -> [TreeEntry] {
        final class Collector {
            var entries: [TreeEntry] = []
        }
        let collector = Collector()
        let callback: git_treewalk_cb = { root, entry, payload in
            guard let entry, let payload, let root, let id = git_tree_entry_id(entry) else { return 0 }
            let box = Unmanaged<Collector>.fromOpaque(payload).takeUnretainedValue()
            let mode = git_tree_entry_filemode(entry)
            guard mode != GIT_FILEMODE_TREE else { return 0 }
            let name = String(cString: git_tree_entry_name(entry))
            box.entries.append(
                TreeEntry(
                    path: String(cString: root) + name, id: ObjectID(id), kind: EntryKind(mode),
                    executable: mode == GIT_FILEMODE_BLOB_EXECUTABLE))
            return 0
        }
        let payload = Unmanaged.passUnretained(collector).toOpaque()
        try check(git_tree_walk(tree, GIT_TREEWALK_PRE, callback, payload), "list tree")
        return withExtendedLifetime(collector) { collector.entries.map { $0.prefixed(prefix) } }
    }

    /// The signature of a signed commit and the bytes it covers; nil for an unsigned commit.
    public func signature(of commit: ObjectID) throws -> CommitSignature? {
        var oid = commit.oid
        var signature = git_buf()
        var signed = git_buf()
        defer {
            git_buf_dispose(&signature)
            git_buf_dispose(&signed)
        }
        let code = git_commit_extract_signature(&signature, &signed, pointer, &oid, nil)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "read signature of \(commit.short)")
        return CommitSignature(
            signature: String(decoding: Data(buffer: signature), as: UTF8.self), signedData: Data(buffer: signed))
    }
}

extension ChangedPath {
    init(_ delta: git_diff_delta) {
        let newPath = delta.new_file.path.map { String(cString: $0) } ?? ""
        let oldPath = delta.old_file.path.map { String(cString: $0) } ?? newPath
        let status: ChangeStatus
        switch delta.status {
        case GIT_DELTA_ADDED: status = .added
        case GIT_DELTA_DELETED: status = .deleted
        case GIT_DELTA_RENAMED: status = .renamed
        case GIT_DELTA_TYPECHANGE: status = .typeChanged
        default: status = .modified
        }
        self.init(path: newPath, oldPath: oldPath, status: status)
    }
}

extension EntryKind {
    init(_ mode: git_filemode_t) {
        switch mode {
        case GIT_FILEMODE_LINK: self = .symlink
        case GIT_FILEMODE_COMMIT: self = .submodule
        case GIT_FILEMODE_TREE: self = .tree
        default: self = .blob
        }
    }
}

extension TreeEntry {
    func prefixed(_ prefix: String) -> TreeEntry {
        TreeEntry(path: prefix + path, id: id, kind: kind, executable: executable)
    }
}

extension Data {
    init(buffer: git_buf) {
        guard let bytes = buffer.ptr, buffer.size > 0 else {
            self.init()
            return
        }
        self.init(bytes: bytes, count: buffer.size)
    }
}
