import Foundation
import Reconciler
import SpecModel

/// What the pages read: the state store, the audit chain, the mirror's commits. Read-only, like `status`
/// and `audit log`, which read the same places.
struct WebSources: Sendable {
    let store: any StateReader
    let config: AgentConfig
    let commits: CommitLookup
    /// Step logs are redacted again on the way out (a secret granted after the run included).
    let redactor: SecretRedactor
    let chain: ChainStatus
    /// The plan the agent made at its last pass, when it is the only agent on its state (SQLite): the page then
    /// need not decode the stored plan. Nil with PostgreSQL, where the coordinator's stored plan is the one.
    let planned: @Sendable () -> Plan?

    init(store: any StateReader, config: AgentConfig, planned: @escaping @Sendable () -> Plan? = { nil }) {
        self.store = store
        self.config = config
        if store is PostgresStateStore {
            self.planned = { nil }
        } else {
            self.planned = planned
        }
        commits = CommitLookup(mirrorPath: "\(config.stateDirectory)/mirror.git")
        redactor = StepEnvironment(config: config).redactor
        chain = ChainStatus(store: store, config: config)
    }

    /// What `status` shows, as of now.
    func status() throws -> Plan {
        try StatusReport.current(store, planned: planned())
    }

    /// The audit records matching `filter`, oldest first, from whichever store keeps the chain.
    func auditRecords(_ filter: AuditFilter = AuditFilter()) throws -> [AuditRecord] {
        if let shared = store as? PostgresStateStore { return try shared.chainRecords(matching: filter) }
        return try decode(try auditLines(AuditLines.needles(filter))).filter(filter.matches)
    }

    /// The log's lines that contain every needle, oldest first (the file's; with PostgreSQL, the table's export).
    func auditLines(_ needles: [String]) throws -> [Data] {
        let data: Data
        if let shared = store as? PostgresStateStore {
            data = try shared.exportChain(matching: AuditFilter())
        } else {
            data = FileManager.default.contents(atPath: "\(config.stateDirectory)/\(AuditLog.fileName)") ?? Data()
        }
        return AuditLines.split(data, containing: needles.map { Data($0.utf8) })
    }

    /// Lines as records; a line that is not one is an error to show (`audit verify` says more).
    func decode(_ lines: some Collection<Data>) throws -> [AuditRecord] {
        let decoder = JSONDecoder()
        return try lines.map { line in
            do {
                return try decoder.decode(AuditRecord.self, from: line)
            } catch {
                throw PageInputError(message: "an audit record cannot be read (run `audit verify`): \(error)")
            }
        }
    }
}

/// The chain's verification as the audit page reports it.
struct ChainReport: Sendable {
    let intact: Bool
    let records: Int64
    let head: AuditAnchor?
    /// Where and how it is broken, when it is.
    let problem: String?
    /// Records written after the anchor was read (an agent appending meanwhile), not damage.
    let newerThanAnchor: Int64
    let checkedAt: Date
}

/// Verifies the chain for the page, at most once per growth of the log and every 10 s: a page reload
/// must not rehash a million records.
final class ChainStatus: @unchecked Sendable {
    private let store: any StateReader
    private let config: AgentConfig
    private let lock = NSLock()
    private var last: (report: ChainReport, size: Int64)?

    init(store: any StateReader, config: AgentConfig) {
        self.store = store
        self.config = config
    }

    func report(now: Date = Date()) -> ChainReport {
        lock.withLock {
            let size = currentSize()
            if let last, last.size == size || now.timeIntervalSince(last.report.checkedAt) < 10 { return last.report }
            let report = verify(now: now)
            last = (report, size)
            return report
        }
    }

    private var logPath: String { "\(config.stateDirectory)/\(AuditLog.fileName)" }

    /// The file's size, or for PostgreSQL the anchor's seq: what changes when the chain grows.
    private func currentSize() -> Int64 {
        if store is PostgresStateStore { return (try? store.auditAnchor()?.seq) ?? -1 }
        return (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? NSNumber)?.int64Value ?? -1
    }

    private func verify(now: Date) -> ChainReport {
        do {
            if let shared = store as? PostgresStateStore { return Self.report(try shared.verifyChain(), now: now) }
            // The anchor first, as `audit verify` does: records appended after it are new, not damage.
            let anchor = try store.auditAnchor()
            return Self.report(try AuditVerifier.verify(fileAt: logPath, anchor: anchor), now: now)
        } catch {
            return ChainReport(
                intact: false, records: 0, head: nil, problem: "could not be verified: \(error)", newerThanAnchor: 0,
                checkedAt: now)
        }
    }

    static func report(_ result: AuditVerification, now: Date) -> ChainReport {
        if let problem = result.problem, problem.kind == .anchorBehind || problem.kind == .noAnchor {
            return ChainReport(
                intact: true, records: result.count, head: result.head, problem: nil,
                newerThanAnchor: result.count - problem.seq + 1, checkedAt: now)
        }
        return ChainReport(
            intact: result.isIntact, records: result.count, head: result.head,
            problem: result.problem.map { "broken at seq \($0.seq): \($0.kind.rawValue): \($0.message)" },
            newerThanAnchor: 0, checkedAt: now)
    }
}

/// The audit log's lines, picked before decoding: decoding every record of a 12,000-record log took 700 ms a page.
/// A record is stored as canonical JSON (sorted keys, no spaces), so a record whose `stage` is `dev` holds the bytes
/// `"stage":"dev","time":"` (`time` is the key after `stage`). Nested objects (a plan's stages) hold `stage` keys
/// too, but followed by other keys; a line without the bytes cannot match, a line with them is still checked.
enum AuditLines {
    /// The byte strings a record matching `filter` must contain.
    static func needles(_ filter: AuditFilter) -> [String] {
        var needles: [String] = []
        if let pipeline = filter.pipeline {
            needles.append(#""pipeline":"# + CanonicalJSON.serialize(.string(pipeline)) + #","prev":""#)
        }
        if let stage = filter.stage { needles.append(#""stage":"# + CanonicalJSON.serialize(.string(stage)) + #","time":""#) }
        if let candidate = filter.candidate {
            needles.append(#""candidate":"# + String(CanonicalJSON.serialize(.string(candidate)).dropLast()))
        }
        return needles
    }

    /// The needle for a type, or for a prefix ending in a dot (`type` is the last key of a record).
    static func typeNeedle(_ type: String) -> String {
        let quoted = CanonicalJSON.serialize(.string(type))
        return #""type":"# + (type.hasSuffix(".") ? String(quoted.dropLast()) : quoted + "}")
    }

    /// The lines of `data` (without their newline) that contain every needle.
    static func split(_ data: Data, containing needles: [Data]) -> [Data] {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> [Data] in
            guard let base = buffer.baseAddress else { return [] }
            var lines: [Data] = []
            var start = 0
            while start < buffer.count {
                let rest = buffer.count - start
                let newline = memchr(base + start, 0x0A, rest).map { UnsafeRawPointer($0) - base } ?? buffer.count
                let length = newline - start
                if length > 0, needles.allSatisfy({ contains(base + start, length, $0) }) {
                    lines.append(Data(bytes: base + start, count: length))
                }
                start = newline + 1
            }
            return lines
        }
    }

    /// Whether `needle` occurs in the line: `memchr` to each candidate first byte, `memcmp` there.
    private static func contains(_ line: UnsafeRawPointer, _ length: Int, _ needle: Data) -> Bool {
        needle.withUnsafeBytes { needleBytes in
            guard let needleBase = needleBytes.baseAddress, let first = needleBytes.first else { return true }
            let count = needleBytes.count
            var offset = 0
            while offset + count <= length {
                guard let hit = memchr(line + offset, Int32(first), length - offset - count + 1) else { return false }
                if memcmp(hit, needleBase, count) == 0 { return true }
                offset = UnsafeRawPointer(hit) - line + 1
            }
            return false
        }
    }
}
