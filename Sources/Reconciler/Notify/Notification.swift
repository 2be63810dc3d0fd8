import Foundation
import SpecModel

/// Something on-call people or teams want to hear about.
public struct NotificationEvent: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case promotionStarted = "promotion.started"
        case promotionSucceeded = "promotion.succeeded"
        case promotionFailed = "promotion.failed"
        case promotionRolledBack = "promotion.rolled-back"
        case approvalNeeded = "approval.needed"
        case healthChanged = "health.changed"
        case sourceUnreachable = "source.unreachable"
        case auditCheckpoint = "audit.checkpoint"
    }

    public enum Severity: String, Sendable {
        case info, warning, error, critical
    }

    public let kind: Kind
    public let pipeline: String?
    public let stage: String?
    public let candidate: String?
    public let summary: String
    public let severity: Severity
    /// For PagerDuty: true when this event ends an incident (recovery) rather than opening one.
    public let resolves: Bool
    /// Structured content a webhook carries as `detail` (a signed audit checkpoint).
    public var detail: JSONValue?

    public init(
        _ kind: Kind, pipeline: String? = nil, stage: String? = nil, candidate: String? = nil, summary: String,
        severity: Severity = .info, resolves: Bool = false
    ) {
        self.kind = kind
        self.pipeline = pipeline
        self.stage = stage
        self.candidate = candidate
        self.summary = summary
        self.severity = severity
        self.resolves = resolves
    }

    /// The incident this event belongs to, stable across events of one stage.
    public var dedupKey: String { "pipeline-agent/\(pipeline ?? "-")/\(stage ?? "-")" }
}

/// One HTTP request a channel turns an event into (nil: the channel ignores the event).
struct ChannelRequest {
    let url: String
    let headers: [String: String]
    let body: Data
}
