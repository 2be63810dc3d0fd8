import CGit2
import Foundation

/// Talks to a remote without a local repository: listing its refs costs one round trip
/// and no object transfer, which is what keeps an idle poll cheap.
public enum GitRemote {
    /// The refs a remote advertises (`git ls-remote`).
    public static func listRefs(url: String, options: RemoteOptions = RemoteOptions()) throws -> [RemoteRef] {
        // libgit2 calls a missing local path an "unsupported URL protocol"; say what is wrong instead.
        if !url.contains("://"), !url.contains("@"), !FileManager.default.fileExists(atPath: url) {
            throw GitError(.notARepository, operation: "list refs of \(url)", message: "no such path \(url)")
        }
        return try RemoteTransfer.run("list refs of \(url)", options: options) { context in
            var remote: OpaquePointer?
            try check(git_remote_create_detached(&remote, url), "open remote \(url)")
            guard let remote else { throw GitError(.other, operation: "open remote", message: url) }
            defer { git_remote_free(remote) }
            return try advertisedRefs(remote, url: url, context: context)
        }
    }

    static func advertisedRefs(_ remote: OpaquePointer, url: String, context: TransferContext) throws -> [RemoteRef] {
        var callbacks = RemoteTransfer.callbacks(context)
        var proxy = git_proxy_options()
        git_proxy_options_init(&proxy, UInt32(GIT_PROXY_OPTIONS_VERSION))
        try check(git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, &proxy, nil), "connect to \(url)")
        defer { git_remote_disconnect(remote) }
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try check(git_remote_ls(&heads, &count, remote), "list refs of \(url)")
        return (0..<count).compactMap { index in
            guard let head = heads?[index]?.pointee, let name = head.name else { return nil }
            let target = ObjectID(head.oid)
            return RemoteRef(
                name: String(cString: name), target: target.hex == String(repeating: "0", count: 40) ? nil : target,
                symbolicTarget: head.symref_target.map { String(cString: $0) })
        }
    }
}
