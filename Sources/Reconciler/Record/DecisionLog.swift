import Logging

/// One service-log line per recorded decision that an operator watches for: promotions, gates, health,
/// source and spec errors, rejected approvals. The audit log stays the record; this is for whoever tails
/// the journal. Values pass the secret redactor, like everything the audit log holds.
struct DecisionLog: Sendable {
    let logger: Logger
    let redactor: SecretRedactor

    /// The detail fields worth a line, when present.
    private static let shownDetail = ["reason", "phase", "from", "to", "error", "promotionId", "step", "file"]

    static func level(of type: String) -> Logger.Level? {
        switch type {
        case "promotion.failed", "promotion.rolledBack", "source.failed", "spec.invalid", "audit.repaired":
            return .error
        case "promotion.interrupted", "gate.blocked", "health.changed", "approval.rejected", "policy.tightened":
            return .warning
        case "promotion.started", "promotion.succeeded", "approval.accepted", "agent.started", "agent.stopped":
            return .info
        default:
            return nil
        }
    }

    func log(_ events: [AuditEvent]) {
        for event in events {
            guard let level = Self.level(of: event.type) else { continue }
            var metadata: Logger.Metadata = [:]
            if let pipeline = event.pipeline { metadata["pipeline"] = "\(pipeline)" }
            if let stage = event.stage { metadata["stage"] = "\(stage)" }
            if let candidate = event.candidate { metadata["candidate"] = "\(candidate.prefix(12))" }
            for key in Self.shownDetail {
                guard let value = event.detail[key] else { continue }
                metadata[key] = "\(redactor.redact(Self.text(value)))"
            }
            logger.log(level: level, "\(event.type)", metadata: metadata)
        }
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        default: return CanonicalJSON.serialize(value)
        }
    }
}
