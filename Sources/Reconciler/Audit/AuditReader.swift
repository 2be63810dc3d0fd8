import Foundation

/// Which records an auditor wants to see.
public struct AuditFilter: Sendable {
    public var pipeline: String?
    public var stage: String?
    /// A candidate id or a prefix of it.
    public var candidate: String?
    public var since: Date?

    public init(pipeline: String? = nil, stage: String? = nil, candidate: String? = nil, since: Date? = nil) {
        self.pipeline = pipeline
        self.stage = stage
        self.candidate = candidate
        self.since = since
    }

    /// True when it lets every record through.
    public var isEmpty: Bool { pipeline == nil && stage == nil && candidate == nil && since == nil }

    public func matches(_ record: AuditRecord) -> Bool {
        if let pipeline, record.pipeline != pipeline { return false }
        if let stage, record.stage != stage { return false }
        if let candidate, !(record.candidate ?? "").hasPrefix(candidate) { return false }
        if let since, let time = AuditTime.parse(record.time), time < since { return false }
        return true
    }
}

/// Reads audit records for people and tools (verification is `AuditVerifier`'s job).
public enum AuditReader {
    /// Every complete record of the log at `path`, filtered; unreadable lines are reported, not skipped.
    public static func records(at path: String, matching filter: AuditFilter = AuditFilter()) throws -> [AuditRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        var records: [AuditRecord] = []
        for (index, line) in data.split(separator: 0x0A).enumerated() {
            do {
                let record = try decoder.decode(AuditRecord.self, from: Data(line))
                if filter.matches(record) { records.append(record) }
            } catch {
                throw AuditReadError(line: index + 1, reason: "\(error)")
            }
        }
        return records
    }
}

/// A line of the log that is not a record.
public struct AuditReadError: Error, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "audit log line \(line) is not a record (run `audit verify`): \(reason)" }
}
