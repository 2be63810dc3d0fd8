import Foundation

/// How the agent authenticates to a remote. Secrets are named by environment variable and
/// read only when libgit2 asks, so they never sit in configuration values or logs.
public enum GitCredentials: Sendable, Hashable {
    /// No credentials (local paths, `file://`, `git://`, public HTTPS).
    case none
    /// HTTPS with a token read from an environment variable; the username defaults to
    /// the one in the URL, else `x-access-token`.
    case token(environmentVariable: String, username: String?)
    /// SSH with a key pair on disk; an optional passphrase comes from an environment variable.
    case sshKey(privateKey: String, publicKey: String?, passphraseEnvironmentVariable: String?, username: String?)
}

/// Settings for talking to a remote.
public struct RemoteOptions: Sendable, Hashable {
    public var credentials: GitCredentials
    /// A transfer that makes no progress for this long is aborted (libgit2 1.5 has no timeout of its own).
    public var stallTimeout: Duration

    public init(credentials: GitCredentials = .none, stallTimeout: Duration = .seconds(60)) {
        self.credentials = credentials
        self.stallTimeout = stallTimeout
    }
}
