import Foundation

/// A stage of a pipeline, the unit of actual state.
public struct StageKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let pipeline: String
    public let stage: String

    public init(_ pipeline: String, _ stage: String) {
        self.pipeline = pipeline
        self.stage = stage
    }

    public var description: String { "\(pipeline)/\(stage)" }

    public static func < (lhs: StageKey, rhs: StageKey) -> Bool {
        (lhs.pipeline, lhs.stage) < (rhs.pipeline, rhs.stage)
    }
}

/// Where a promotion ended up.
public enum PromotionStatus: String, Sendable, Codable {
    case running
    case succeeded
    case failed
    case rolledBack = "rolled-back"
    case interrupted
    /// The host failed, not the candidate (the checkout or a step's log could not be written: a full
    /// disk): the candidate is planned again once the pass is retried, with no retry counted against it.
    case hostFailed = "host-failed"

    /// Whether the candidate counts as failed in the stage (not retried automatically).
    public var isFailure: Bool { self == .failed || self == .rolledBack || self == .interrupted }
}

/// How healthy a stage's deployed candidate is; the worst check wins.
public enum Health: String, Sendable, Codable, Comparable, CaseIterable {
    case healthy = "Healthy"
    case unknown = "Unknown"
    case warning = "Warning"
    case critical = "Critical"

    private var rank: Int {
        switch self {
        case .healthy: return 0
        case .unknown: return 1
        case .warning: return 2
        case .critical: return 3
        }
    }

    public static func < (lhs: Health, rhs: Health) -> Bool { lhs.rank < rhs.rank }
}

/// What the store remembers about a stage.
public struct StageRecord: Sendable, Hashable {
    public var key: StageKey
    public var current: String?
    public var previous: String?
    public var health: Health
    public var updatedAt: Date?
    /// The last gate reason written to the audit log, so `gate.blocked` is written once per change.
    public var blockedReason: String?
    /// The phase of the last plan (the plan itself is in `lastPlan`).
    public var phase: String?

    public init(
        key: StageKey, current: String? = nil, previous: String? = nil, health: Health = .unknown,
        updatedAt: Date? = nil, blockedReason: String? = nil, phase: String? = nil
    ) {
        self.phase = phase
        self.key = key
        self.current = current
        self.previous = previous
        self.health = health
        self.updatedAt = updatedAt
        self.blockedReason = blockedReason
    }
}

/// One attempt to bring a candidate into a stage.
public struct PromotionRecord: Sendable, Hashable {
    public var id: Int64
    public var key: StageKey
    public var candidate: String
    public var previous: String?
    public var status: PromotionStatus
    public var startedAt: Date
    public var endedAt: Date?
    public var reason: String?
    /// Digest of the stage's spec when the promotion ran; a failure blocks only this spec.
    public var specDigest: String

    public init(
        id: Int64, key: StageKey, candidate: String, previous: String?, status: PromotionStatus, startedAt: Date,
        endedAt: Date?, reason: String?, specDigest: String
    ) {
        self.id = id
        self.key = key
        self.candidate = candidate
        self.previous = previous
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.reason = reason
        self.specDigest = specDigest
    }
}

/// How a promotion ended, applied to the store in one transaction: the promotion's row and, for
/// a success, the stage's current candidate (a crash never leaves one without the other).
public struct PromotionOutcome: Sendable, Hashable {
    public var promotion: PromotionRecord
    public var status: PromotionStatus
    public var reason: String?
    public var at: Date

    public init(_ promotion: PromotionRecord, status: PromotionStatus, reason: String?, at: Date) {
        self.promotion = promotion
        self.status = status
        self.reason = reason
        self.at = at
    }

    /// The audit record that closes a promotion with this status.
    public static func terminalType(_ status: PromotionStatus) -> String {
        switch status {
        case .succeeded: return "promotion.succeeded"
        case .interrupted, .hostFailed: return "promotion.interrupted"
        case .running, .failed, .rolledBack: return "promotion.failed"
        }
    }

    /// How a promotion ends after its rollback: an interrupted or host-failed one keeps that status; a
    /// failed one is rolled back, or failed when the rollback failed too (with why, appended to `reason`).
    public static func afterRollback(
        _ outcome: PromotionStatus, reason: String, rollbackFailure: String?
    ) -> (status: PromotionStatus, reason: String) {
        let status: PromotionStatus = outcome != .failed ? outcome : (rollbackFailure == nil ? .rolledBack : .failed)
        return (status, rollbackFailure.map { "\(reason); rollback failed: \($0)" } ?? reason)
    }

    /// Every type that closes a promotion; a promotion has exactly one.
    public static let terminalTypes: Set<String> = ["promotion.succeeded", "promotion.failed", "promotion.interrupted"]
}

/// One run of a step, rollback step or check.
public struct StepRunRecord: Sendable, Hashable {
    public var promotionID: Int64
    public var phase: String
    public var name: String
    public var attempt: Int
    public var exitStatus: Int32?
    public var durationMs: Int64
    public var outputSHA256: String?
    public var logPath: String?
    public var result: String
}

/// An operator's explicit retry of a failed candidate on a stage: failures of that candidate there
/// before `requestedAt` no longer block it (every gate still applies).
public struct RetryRecord: Sendable, Hashable, Codable {
    public var key: StageKey
    public var candidate: String
    public var requestedAt: Date
    public var requestedBy: String
    public var reason: String

    public init(key: StageKey, candidate: String, requestedAt: Date, requestedBy: String, reason: String) {
        self.key = key
        self.candidate = candidate
        self.requestedAt = requestedAt
        self.requestedBy = requestedBy
        self.reason = reason
    }
}
