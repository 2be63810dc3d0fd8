import Foundation
import GRDB
import GitSource

/// What the agent does after a pass failed, decided by what failed (as Flux tells stalling from
/// waiting): the network gets retries, a bad credential gets a person, a lost audit trail stops it.
public enum PassFailure: Sendable, Equatable, CustomStringConvertible {
    /// Trying again may help (network, timeout, a busy database): retry with backoff.
    case transient(String)
    /// Nothing changes until a person acts (credentials, a wrong URL or branch, ownership): wait for a
    /// poll or a webhook without hammering the source, and say what to fix.
    case needsHuman(String)
    /// The agent cannot record what it does (audit log or state store unwritable, damaged state):
    /// acting now would be unaudited, so it stops.
    case fatal(String)

    /// Classifies an error thrown by a pass.
    public static func classify(_ error: Error) -> PassFailure {
        let text = "\(error)"
        switch error {
        case is AuditError, is StateStoreError, is StateDirectoryLocked:
            return .fatal(text)
        case let git as GitError:
            return git.isTransient ? .transient(text) : .needsHuman(text)
        case let database as DatabaseError:
            return database.resultCode == .SQLITE_BUSY || database.resultCode == .SQLITE_LOCKED
                ? .transient(text) : .fatal(text)
        default:
            return .transient(text)
        }
    }

    public var description: String {
        switch self {
        case .transient(let text): return "transient (retrying with backoff): \(text)"
        case .needsHuman(let text): return "needs a person (waiting, not retrying hard): \(text)"
        case .fatal(let text): return "fatal (stopping): \(text)"
        }
    }
}
