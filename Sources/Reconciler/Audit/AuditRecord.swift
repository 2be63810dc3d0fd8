import Crypto
import Foundation

/// What happened, before the log gives it a place in the chain.
public struct AuditEvent: Sendable, Hashable {
    public var type: String
    public var pipeline: String?
    public var stage: String?
    public var candidate: String?
    public var actor: String
    public var detail: [String: JSONValue]
    /// The agent instance that wrote it, when several agents share the chain (set by the chain, not the caller).
    public var agent: String?

    public init(
        _ type: String, pipeline: String? = nil, stage: String? = nil, candidate: String? = nil,
        actor: String = "agent", detail: [String: JSONValue] = [:]
    ) {
        self.type = type
        self.pipeline = pipeline
        self.stage = stage
        self.candidate = candidate
        self.actor = actor
        self.detail = detail
    }
}

/// One line of the audit log: an event with its sequence number, time and hash links.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// The `prev` of the first record: 64 zeros.
    public static let genesis = String(repeating: "0", count: 64)

    public let seq: Int64
    public let time: String
    public let type: String
    public let pipeline: String?
    public let stage: String?
    public let candidate: String?
    public let actor: String
    /// The agent instance that wrote it (PostgreSQL stores, where several agents share one chain); absent in the file.
    public let agent: String?
    public let detail: [String: JSONValue]
    public let prev: String
    public private(set) var hash: String

    /// Seals an event into the chain after `prev`.
    init(event: AuditEvent, seq: Int64, time: String, prev: String) {
        self.seq = seq
        self.time = time
        self.type = event.type
        self.pipeline = event.pipeline
        self.stage = event.stage
        self.candidate = event.candidate
        self.actor = event.actor
        self.agent = event.agent
        self.detail = event.detail
        self.prev = prev
        self.hash = ""
        self.hash = Self.sha256(CanonicalJSON.serialize(unhashedValue))
    }

    /// The record without `hash`: what the hash covers.
    var unhashedValue: JSONValue {
        var members: [String: JSONValue] = [
            "seq": .int(seq), "time": .string(time), "type": .string(type),
            "pipeline": pipeline.map(JSONValue.string) ?? .null, "stage": stage.map(JSONValue.string) ?? .null,
            "candidate": candidate.map(JSONValue.string) ?? .null, "actor": .string(actor), "detail": .object(detail),
            "prev": .string(prev),
        ]
        // Only when set: the file's records (one agent) keep the line format they always had.
        if let agent { members["agent"] = .string(agent) }
        return .object(members)
    }

    /// The exact line written to the log (without the newline).
    public var canonicalLine: String {
        guard case .object(var members) = unhashedValue else { return "" }
        members["hash"] = .string(hash)
        return CanonicalJSON.serialize(.object(members))
    }

    /// Lowercase hex SHA-256 of a string's UTF-8 bytes.
    static func sha256<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        AuditVerifier.hex(Array(SHA256.hash(data: bytes)))
    }

    static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }
}

/// Audit times: RFC 3339, UTC, milliseconds.
public enum AuditTime {
    /// A value type, made once: an `ISO8601DateFormatter` per record cost 170 µs, 13 % of a quick step.
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// `2026-11-27T06:36:58.865Z`: milliseconds rounded to nearest, as `ISO8601DateFormatter` wrote them
    /// (the style truncates; the microsecond added keeps a rounded value from truncating to the one below).
    public static func format(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        return style.format(Date(timeIntervalSince1970: milliseconds / 1000 + 0.000_001))
    }

    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}

extension AuditRecord {
    /// Seals `events` as the records following `head` (nil: the first), all stamped `time`, with secrets removed
    /// from their details: the one way a record is made, whichever store keeps the chain.
    static func seal(
        _ events: [AuditEvent], after head: AuditAnchor?, time: String, redactor: SecretRedactor, agent: String? = nil
    ) -> [AuditRecord] {
        var prev = head?.hash ?? genesis
        var seq = head?.seq ?? 0
        return events.map { event in
            var clean = event
            clean.detail = event.detail.mapValues(redactor.redact)
            clean.agent = agent
            seq += 1
            let record = AuditRecord(event: clean, seq: seq, time: time, prev: prev)
            prev = record.hash
            return record
        }
    }
}
