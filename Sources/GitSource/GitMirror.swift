import CGit2
import Foundation

/// A bare local copy of a watched repository whose `refs/heads/*` follow the remote's.
public struct GitMirror: Sendable {
    public static let remoteName = "origin"
    static let mirrorRefspec = "+refs/heads/*:refs/heads/*"

    /// Where the mirror lives on disk.
    public let path: String
    /// The watched repository: a path, `file://`, `git://`, `https://` or `ssh://` URL.
    public let url: String
    public let options: RemoteOptions

    /// Opens the mirror at `path`, creating it (empty) when missing and pointing its remote at `url`.
    /// Call `fetch()` to fill it; `prepare` itself never touches the network.
    public static func prepare(url: String, at path: String, options: RemoteOptions = RemoteOptions()) throws -> GitMirror {
        let repository = try GitRepository.initBare(at: path)
        var remote: OpaquePointer?
        let code = git_remote_lookup(&remote, repository.pointer, remoteName)
        if code == GIT_ENOTFOUND.rawValue {
            try check(
                git_remote_create_with_fetchspec(&remote, repository.pointer, remoteName, url, mirrorRefspec),
                "configure mirror of \(url)")
        } else {
            try check(code, "read mirror remote")
            let current = remote.flatMap { git_remote_url($0) }.map { String(cString: $0) }
            if current != url {
                try check(git_remote_set_url(repository.pointer, remoteName, url), "point mirror at \(url)")
            }
        }
        git_remote_free(remote)
        return GitMirror(path: path, url: url, options: options)
    }

    /// Opens the mirror for reading commits, trees and blobs.
    public func open() throws -> GitRepository {
        try GitRepository.open(at: path)
    }

    /// The refs the remote advertises, without fetching anything.
    public func listRemoteRefs() throws -> [RemoteRef] {
        try GitRemote.listRefs(url: url, options: options)
    }

    /// Brings `branch` (every branch when nil) up to date with the remote (pruning deleted ones) and
    /// returns the branch tips before and after. The agent fetches only its watched branch: nothing
    /// pushed elsewhere, reviewed or not, is ever in the mirror to be deployed.
    @discardableResult
    public func fetch(branch: String? = nil) throws -> FetchResult {
        let path = path
        let url = url
        return try RemoteTransfer.run("fetch \(url)", options: options) { context in
            let repository = try GitRepository.open(at: path)
            let before = try repository.branchTips()
            var remote: OpaquePointer?
            try check(git_remote_lookup(&remote, repository.pointer, Self.remoteName), "open mirror remote")
            defer { git_remote_free(remote) }
            var fetchOptions = git_fetch_options()
            git_fetch_options_init(&fetchOptions, UInt32(GIT_FETCH_OPTIONS_VERSION))
            fetchOptions.callbacks = RemoteTransfer.callbacks(context)
            fetchOptions.prune = GIT_FETCH_PRUNE
            fetchOptions.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
            fetchOptions.update_fetchhead = 0
            guard let branch else {
                try check(git_remote_fetch(remote, nil, &fetchOptions, "pipeline-agent fetch"), "fetch \(url)")
                return FetchResult(before: before, after: try repository.branchTips())
            }
            let refspec = strdup("+refs/heads/\(branch):refs/heads/\(branch)")
            defer { free(refspec) }
            var strings: [UnsafeMutablePointer<CChar>?] = [refspec]
            try strings.withUnsafeMutableBufferPointer { buffer in
                var array = git_strarray(strings: buffer.baseAddress, count: 1)
                try check(git_remote_fetch(remote, &array, &fetchOptions, "pipeline-agent fetch"), "fetch \(url) \(branch)")
            }
            return FetchResult(before: before, after: try repository.branchTips())
        }
    }

    /// Lists the remote's refs and fetches only when `branch` moved (or is not mirrored yet).
    public func fetchIfChanged(branch: String) throws -> FetchResult {
        let remoteTip = try listRemoteRefs().first { $0.name == "refs/heads/\(branch)" }?.target
        let local = try open().branchTips()
        guard let remoteTip else {
            throw GitError(.unknownBranch, operation: "watch \(url)", message: "the remote has no branch '\(branch)'")
        }
        if local[branch] == remoteTip { return FetchResult(before: local, after: local) }
        return try fetch(branch: branch)
    }
}

/// Branch tips of the mirror before and after a fetch.
public struct FetchResult: Sendable, Hashable {
    public let before: [String: ObjectID]
    public let after: [String: ObjectID]

    /// Whether anything moved.
    public var changed: Bool { before != after }
}
