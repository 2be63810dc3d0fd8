import Foundation

/// How one run of a step ended, in the spirit of Kargo's step results: only a failure that may
/// pass next time is retried; a step that could not start, whose log could not be written or that
/// was stopped with the agent is terminal.
enum StepResult: Sendable, Equatable {
    case succeeded
    /// The command ran and failed: `retries` applies.
    case failed(String)
    /// Retrying cannot help or must not happen.
    case terminal(String)
    /// The host failed, not the candidate (the log could not be written: a full disk): the promotion
    /// ends interrupted, so the candidate is retried once the host is fixed.
    case environmental(String)

    init(_ outcome: ProcessOutcome, failure: String?) {
        switch (outcome.ending, failure, outcome.logFailure) {
        case (_, _, let log?):
            self = .environmental("the log is incomplete (\(log)); its output cannot be audited")
        case (.couldNotStart, let reason?, _), (.interrupted, let reason?, _):
            self = .terminal(reason)
        case (_, let reason?, _):
            self = .failed(reason)
        case (_, nil, nil):
            self = .succeeded
        }
    }

    /// The failure with the step's last line of output appended (what on-call reads first).
    func explained(by lastLine: String?, step: String) -> StepResult {
        switch self {
        case .succeeded: return self
        case .failed(let reason): return .failed(lastLine.map { "\(reason): \($0)" } ?? reason)
        case .environmental(let reason):
            return .environmental("step \(step): \(reason)")
        case .terminal(let reason):
            return .terminal(lastLine.map { "\(reason): \($0)" } ?? reason)
        }
    }

    var failure: String? {
        switch self {
        case .succeeded: return nil
        case .failed(let reason), .terminal(let reason), .environmental(let reason): return reason
        }
    }
}

/// Why a list of steps stopped.
struct StepFailure: Sendable, Equatable {
    let reason: String
    /// The host is to blame, not the candidate (see `StepResult.environmental`).
    let environmental: Bool
}
