import CGit2

/// What went wrong in a Git operation, sorted by what the user should check.
public enum GitErrorKind: String, Sendable, Codable {
    case notFound
    case notARepository
    case ownership
    case authentication
    case certificate
    case network
    case timeout
    case unknownBranch
    case tooLarge
    case invalidArgument
    case other
}

/// A libgit2 failure with its message and class, plus advice a person can act on.
public struct GitError: Error, Sendable, CustomStringConvertible {
    public let kind: GitErrorKind
    public let operation: String
    public let message: String
    /// libgit2's return code (0 when the error is ours, not libgit2's).
    public let code: Int32
    /// libgit2's error class (`git_error_t`), 0 when unknown.
    public let errorClass: Int32

    public init(_ kind: GitErrorKind, operation: String, message: String, code: Int32 = 0, errorClass: Int32 = 0) {
        self.kind = kind
        self.operation = operation
        self.message = message
        self.code = code
        self.errorClass = errorClass
    }

    /// Whether trying again later may help (network trouble, not a bad configuration).
    public var isTransient: Bool { kind == .network || kind == .timeout }

    public var description: String {
        "\(operation): \(message) — \(advice)"
    }

    /// What to check, in the user's terms.
    public var advice: String {
        switch kind {
        case .notFound: return "check that the path, ref or object exists"
        case .notARepository: return "check that the path or URL points at a Git repository"
        case .ownership:
            return "the repository belongs to another user; run as its owner or mark it safe (git config safe.directory)"
        case .authentication: return "check the credentials: the token variable or the SSH key and its access to the repository"
        case .certificate: return "check the server's TLS certificate and the system CA store"
        case .network: return "check that the host is reachable and the URL is right; the agent retries with backoff"
        case .timeout: return "the transfer stalled; check the network or raise the transfer timeout"
        case .unknownBranch: return "check the branch name in the spec or the agent config"
        case .tooLarge: return "the file is larger than allowed here"
        case .invalidArgument: return "check the value passed in"
        case .other: return "see libgit2's message"
        }
    }

    /// Builds the error from libgit2's thread-local last error after a failing call.
    static func last(_ code: Int32, operation: String) -> GitError {
        let last = git_error_last()
        let message = last.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "libgit2 error \(code)"
        let errorClass = last.map { $0.pointee.klass } ?? 0
        return GitError(
            classify(code, errorClass, message), operation: operation, message: message, code: code, errorClass: errorClass)
    }

    private static func classify(_ code: Int32, _ errorClass: Int32, _ message: String) -> GitErrorKind {
        let lowered = message.lowercased()
        if lowered.contains("safe.directory") || lowered.contains("not owned by current user") { return .ownership }
        switch code {
        case GIT_EAUTH.rawValue: return .authentication
        case GIT_ECERTIFICATE.rawValue: return .certificate
        case GIT_EUSER.rawValue where lowered.contains("timed out"): return .timeout
        default: break
        }
        if lowered.contains("could not find repository") || lowered.contains("not a git repository") { return .notARepository }
        if lowered.contains("authentication") || lowered.contains("credentials") { return .authentication }
        switch git_error_t(UInt32(bitPattern: errorClass)) {
        case GIT_ERROR_NET, GIT_ERROR_SSH, GIT_ERROR_HTTP, GIT_ERROR_OS, GIT_ERROR_SSL: return .network
        default: break
        }
        return code == GIT_ENOTFOUND.rawValue ? .notFound : .other
    }
}

/// Runs a libgit2 call and turns a negative result into a `GitError`.
@discardableResult
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    guard code >= 0 else { throw GitError.last(code, operation: operation()) }
    return code
}
