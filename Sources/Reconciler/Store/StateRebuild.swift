import Foundation
import GRDB

/// Rebuilds a lost state database from the audit log, which records every promotion and its outcome:
/// the documented recovery when no backup of `state.sqlite` exists (docs/operations.md, "Damaged state").
public enum StateRebuild {
    /// What the rebuild wrote.
    public struct Summary: Sendable {
        public var records: Int64 = 0
        public var promotions = 0
        public var stages = 0
        /// Promotions the log shows started but not ended: the next start recovers them.
        public var unfinished = 0
    }

    /// Verifies the log, then writes a new database in `directory`; refuses when one is there.
    public static func rebuild(directory: String) throws -> Summary {
        let database = "\(directory)/\(SQLiteStateStore.fileName)"
        let size = (try? FileManager.default.attributesOfItem(atPath: database)[.size] as? NSNumber)?.intValue ?? 0
        guard size == 0 else { throw StateRebuildError.databaseExists(database) }
        let log = "\(directory)/\(AuditLog.fileName)"
        let verification = try AuditVerifier.verify(fileAt: log, anchor: nil)
        if let problem = verification.problem, problem.kind != .noAnchor {
            throw StateRebuildError.logBroken(log, problem)
        }
        let records = try AuditReader.records(at: log)
        let store = try SQLiteStateStore(directory: directory, besideExistingLog: true)
        var summary = try store.database.write { db in try replay(records, into: db) }
        summary.records = verification.count
        if let head = verification.head { try store.setAuditAnchor(head) }
        return summary
    }

    private static func replay(_ records: [AuditRecord], into db: Database) throws -> Summary {
        var summary = Summary()
        var open = Set<Int64>()
        var stages = Set<String>()
        for record in records {
            if record.type == "promotion.retryRequested" {
                try replayRetry(record, into: db)
                continue
            }
            guard case .int(let id)? = record.detail["promotionId"], let pipeline = record.pipeline,
                let stage = record.stage, let candidate = record.candidate
            else { continue }
            let time = AuditTime.parse(record.time) ?? Date(timeIntervalSince1970: 0)
            if record.type == "promotion.started" {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO promotions (id, pipeline, stage, candidate, previous, status, started_at, spec_digest)
                        VALUES (?, ?, ?, ?, ?, 'running', ?, ?)
                        """,
                    arguments: [
                        id, pipeline, stage, candidate, record.detail["previous"]?.stringValue, time,
                        record.detail["specDigest"]?.stringValue ?? "",
                    ])
                open.insert(id)
                summary.promotions += 1
            } else if PromotionOutcome.terminalTypes.contains(record.type), open.remove(id) != nil {
                let status = PromotionRecovery.terminalStatus(record)
                try db.execute(
                    sql: "UPDATE promotions SET status = ?, reason = ?, ended_at = ? WHERE id = ?",
                    arguments: [status.rawValue, record.detail["reason"]?.stringValue, time, id])
                guard status == .succeeded else { continue }
                stages.insert("\(pipeline)/\(stage)")
                try db.execute(
                    sql: """
                        INSERT INTO stages (pipeline, stage, current, previous, updated_at) VALUES (?, ?, ?, NULL, ?)
                        ON CONFLICT(pipeline, stage) DO UPDATE SET previous = stages.current, current = excluded.current,
                          updated_at = excluded.updated_at
                        """, arguments: [pipeline, stage, candidate, time])
            }
        }
        summary.stages = stages.count
        summary.unfinished = open.count
        return summary
    }

    /// An operator's retry stays in force after a rebuild: the failure it lifted must not block again.
    private static func replayRetry(_ record: AuditRecord, into db: Database) throws {
        guard let pipeline = record.pipeline, let stage = record.stage, let candidate = record.candidate else { return }
        let time = AuditTime.parse(record.time) ?? Date(timeIntervalSince1970: 0)
        try SQLiteStateStore.saveRetry(
            in: db,
            RetryRecord(
                key: StageKey(pipeline, stage), candidate: candidate, requestedAt: time, requestedBy: record.actor,
                reason: record.detail["reason"]?.stringValue ?? ""))
    }
}

/// Why the state cannot be rebuilt.
public enum StateRebuildError: Error, CustomStringConvertible {
    case databaseExists(String)
    case logBroken(String, AuditProblem)

    public var description: String {
        switch self {
        case .databaseExists(let path):
            return "\(path) exists; move it aside first (the rebuild never overwrites a database)"
        case .logBroken(let path, let problem):
            return "the audit log \(path) does not verify (\(problem)); restore it from a backup instead"
        }
    }
}
