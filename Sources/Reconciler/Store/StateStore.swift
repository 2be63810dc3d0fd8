import Foundation
import GRDB
import SpecModel

/// The last record of the audit log as the state store remembers it, so that a truncated
/// or swapped log file is detected.
public struct AuditAnchor: Sendable, Hashable, Codable {
    public let seq: Int64
    public let hash: String
    /// Where the record after it begins in the file, when known: opening the log verifies only what
    /// follows (and the anchored record), the rest in the background. Not part of the anchor's identity.
    public var end: Int64?

    public init(seq: Int64, hash: String, end: Int64? = nil) {
        self.seq = seq
        self.hash = hash
        self.end = end
    }

    public static func == (left: AuditAnchor, right: AuditAnchor) -> Bool {
        left.seq == right.seq && left.hash == right.hash
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seq)
        hasher.combine(hash)
    }
}

/// Where the audit log keeps its anchor.
public protocol AuditAnchorStore: Sendable {
    /// The anchor, or nil before the first record.
    func auditAnchor() throws -> AuditAnchor?
    /// Replaces the anchor.
    func setAuditAnchor(_ anchor: AuditAnchor) throws
}

/// A pipeline spec that validated, with the file and commit it came from.
public struct ValidSpec: Sendable, Hashable {
    public let pipeline: Pipeline
    public let file: String
    public let commit: String

    public init(pipeline: Pipeline, file: String, commit: String) {
        self.pipeline = pipeline
        self.file = file
        self.commit = commit
    }
}

/// How the watched source looked at the last pass.
public struct SourceState: Sendable, Hashable, Codable {
    public var url: String
    public var lastFetch: Date?
    public var lastError: String?

    public init(url: String, lastFetch: Date?, lastError: String?) {
        self.url = url
        self.lastFetch = lastFetch
        self.lastError = lastError
    }
}

/// What the agent's durable state says: everything but the recorder reads it through this, so
/// that only `Recorder` can change it (one writer, in record-then-state order).
public protocol StateReader: Sendable {
    /// Every stage the agent has recorded.
    func stages() throws -> [StageKey: StageRecord]
    /// All promotions, oldest first.
    func promotions() throws -> [PromotionRecord]
    /// Stages and promotions read together, as of one moment: read one after the other, a promotion that
    /// ended in between shows as verified while its stage still runs the old candidate (and was planned again).
    func stagesAndPromotions() throws -> (stages: [StageKey: StageRecord], promotions: [PromotionRecord])
    /// Stages and the promotions running now, read together: what `status` needs, without the whole history.
    func stagesAndRunningPromotions() throws -> (stages: [StageKey: StageRecord], running: [PromotionRecord])
    /// Operators' retries of failed candidates, oldest first (the latest per stage and candidate).
    func retries() throws -> [RetryRecord]
    /// Step runs of one promotion, in order.
    func stepRuns(promotion id: Int64) throws -> [StepRunRecord]
    /// The last valid spec of every pipeline, kept in force while the head's is invalid.
    func validSpecs() throws -> [String: ValidSpec]
    /// The watched source as the last pass saw it.
    func sourceState() throws -> SourceState?
    /// A value the agent remembers across restarts to write a record once per change (e.g. the digest
    /// of the head's spec errors), or nil.
    func marker(_ name: String) throws -> String?
    /// The last plan written (each pipeline as the last pass that changed it planned it), or nil.
    func lastPlan() throws -> Plan?
    /// The audit anchor, or nil before the first record.
    func auditAnchor() throws -> AuditAnchor?
}

/// The agent's durable state, writable. SQLite (through GRDB) is the embedded default; the protocol
/// leaves room for a shared PostgreSQL store. Only `Recorder` (and the audit log it owns) writes.
public protocol StateStore: StateReader, AuditAnchorStore {
    /// Records a stage's phase in the last plan and the block last audited, touching nothing else.
    func savePhase(_ phase: String, blockedReason: String?, for key: StageKey) throws
    /// Records a stage's health, touching nothing else of the stage (its candidates are the executor's).
    func saveHealth(_ health: Health, for key: StageKey) throws
    /// Records a promotion that starts now; returns it with its id.
    func startPromotion(
        _ key: StageKey, candidate: String, previous: String?, specDigest: String, at: Date
    ) throws -> PromotionRecord
    /// Records a promotion that starts now for `action`, unless another agent sharing the store promoted the stage
    /// since the plan (`action.basis`) or runs it now: then nil. One agent alone always gets it.
    func claimPromotion(_ action: PromotionAction, specDigest: String, at: Date) throws -> PromotionRecord?
    /// Closes a promotion with its outcome; a success also moves the stage to the candidate, in the same transaction.
    func finishPromotion(_ outcome: PromotionOutcome) throws
    /// Records a step, rollback step or check run.
    func recordStepRun(_ run: StepRunRecord) throws
    /// Remembers a pipeline's valid spec.
    func saveValidSpec(_ spec: ValidSpec) throws
    /// Records the outcome of a fetch.
    func saveSourceState(_ state: SourceState) throws
    /// Remembers that an event with this key was audited; false when it already was.
    func markAudited(_ key: String) throws -> Bool
    /// Replaces a marker's value.
    func setMarker(_ name: String, _ value: String) throws
    /// Replaces the planned pipelines in `changed` (name → `PipelinePlan` JSON) and forgets `removed`.
    func savePlanPipelines(_ changed: [String: String], removed: [String]) throws
    /// Moves the audit anchor and applies `changes`, in one transaction (the changes a record announced).
    func commit(_ changes: [StateChange], anchor: AuditAnchor) throws
    /// Applies `changes` with no record of their own (phases, markers, caches), in one transaction.
    func apply(_ changes: [StateChange]) throws
}

/// The SQLite state store under `state.path`.
public final class SQLiteStateStore: StateStore {
    public static let fileName = "state.sqlite"
    let database: DatabaseQueue
    /// The writer's copy of stages and promotions; nil when read-only (another process writes).
    let readCache: StageReadCache?
    let planRows = PlanRowDecoder()

    /// Opens (creating and migrating as needed) the store in `directory`; `readOnly` opens an
    /// existing store for reading only and never creates one (status, audit next to an agent).
    public convenience init(directory: String, readOnly: Bool = false) throws {
        try self.init(directory: directory, readOnly: readOnly, besideExistingLog: false)
    }

    /// `besideExistingLog`: create a database next to an audit log on purpose (`StateRebuild`).
    init(directory: String, readOnly: Bool = false, besideExistingLog: Bool) throws {
        let path = "\(directory)/\(Self.fileName)"
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        let isNewlyCreated = (size ?? 0) == 0
        if readOnly, isNewlyCreated { throw StateStoreError.missing(path: path) }
        if isNewlyCreated, !besideExistingLog { try Self.refuseNextToLog(directory: directory, database: path) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            configuration.readonly = readOnly
            database = try DatabaseQueue(path: path, configuration: configuration)
            if readOnly {
                guard try Self.migrated(database, directory: directory) else { throw StateStoreError.outdated(path: path) }
            } else {
                // WAL with synchronous FULL: one fsync a commit (the rollback journal took three or four), and
                // still durable on power loss, which the write-ahead order needs (decision 0013).
                // A checkpoint every 64 pages and the WAL cut back to 256 KiB after it keep the file small.
                try database.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = 64")
                    try db.execute(sql: "PRAGMA journal_size_limit = 262144")
                }
                try Self.migrator.migrate(database)
            }
            let cache = readOnly ? nil : StageReadCache()
            if let cache { database.add(transactionObserver: cache, extent: .databaseLifetime) }
            readCache = cache
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError.unreadable(path: path, reason: "\(error)")
        }
    }

    /// Whether every migration is applied; while an agent holds the directory it may be applying them
    /// (each migration commits on its own), so a reader waits for it (up to 5 s) before calling the file old.
    private static func migrated(_ database: DatabaseQueue, directory: String) throws -> Bool {
        for _ in 0..<100 {
            if try database.read(migrator.hasCompletedMigrations) { return true }
            guard StateDirectoryLock.holder(of: directory) != nil else { return false }
            usleep(50_000)
        }
        return false
    }

    /// A new database next to a non-empty audit log would forget what that log says is deployed:
    /// refuse before creating anything, so the refusal holds at every later start too.
    static func refuseNextToLog(directory: String, database: String) throws {
        let log = "\(directory)/\(AuditLog.fileName)"
        let size = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? NSNumber)?.intValue ?? 0
        guard size > 0 else { return }
        let records = (try? AuditVerifier.verify(fileAt: log, anchor: nil).count) ?? 0
        throw StateStoreError.lostNextToLog(path: database, log: log, records: records)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-audit-anchor") { db in
            try db.create(table: "audit_anchor") { table in
                table.column("id", .integer).primaryKey().check { $0 == 1 }
                table.column("seq", .integer).notNull()
                table.column("hash", .text).notNull()
                table.column("updated_at", .datetime).notNull()
            }
        }
        migrator.registerMigration("v2-stages-promotions") { db in
            try StoreSchema.createStateTables(db)
        }
        migrator.registerMigration("v3-stage-phase") { db in
            try db.alter(table: "stages") { table in table.add(column: "phase", .text) }
        }
        migrator.registerMigration("v4-audited-once") { db in
            try db.create(table: "audited_once") { table in table.column("key", .text).primaryKey() }
        }
        migrator.registerMigration("v5-source-state") { db in
            try db.create(table: "source_state") { table in
                table.column("id", .integer).primaryKey().check { $0 == 1 }
                table.column("url", .text).notNull()
                table.column("last_fetch", .datetime)
                table.column("last_error", .text)
            }
        }
        migrator.registerMigration("v6-markers") { db in
            try db.create(table: "markers") { table in
                table.column("name", .text).primaryKey()
                table.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v7-anchor-end") { db in
            try db.alter(table: "audit_anchor") { table in table.add(column: "end_offset", .integer) }
        }
        migrator.registerMigration("v8-plan-by-pipeline") { db in
            // One row a pipeline, so a pass rewrites the pipelines that changed, not a thousand of them.
            try db.create(table: "plan_pipelines") { table in
                table.column("name", .text).primaryKey()
                table.column("json", .text).notNull()
            }
            try db.execute(
                sql: """
                    INSERT INTO plan_pipelines (name, json)
                    SELECT json_extract(value, '$.name'), value FROM last_plan, json_each(last_plan.json, '$.pipelines')
                    """)
            try db.execute(sql: "DELETE FROM last_plan")
        }
        migrator.registerMigration("v9-retries") { db in
            try db.create(table: "retries") { table in
                table.column("pipeline", .text).notNull()
                table.column("stage", .text).notNull()
                table.column("candidate", .text).notNull()
                table.column("requested_at", .datetime).notNull()
                table.column("requested_by", .text).notNull()
                table.column("reason", .text).notNull()
                table.primaryKey(["pipeline", "stage", "candidate"])
            }
        }
        return migrator
    }

    public func auditAnchor() throws -> AuditAnchor? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash, end_offset FROM audit_anchor WHERE id = 1").map {
                AuditAnchor(seq: $0["seq"], hash: $0["hash"], end: $0["end_offset"])
            }
        }
    }

    public func setAuditAnchor(_ anchor: AuditAnchor) throws {
        try database.write { db in try Self.setAuditAnchor(in: db, anchor) }
    }

    static func setAuditAnchor(in db: Database, _ anchor: AuditAnchor) throws {
        // Cached: compiled once, not at each of the several records a step writes.
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_anchor (id, seq, hash, end_offset, updated_at)
                VALUES (1, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'))
                ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
                    end_offset = excluded.end_offset, updated_at = excluded.updated_at
                """
        ).execute(arguments: [anchor.seq, anchor.hash, anchor.end])
    }
}

/// The state database cannot be used; each case says what to do.
public enum StateStoreError: Error, CustomStringConvertible {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case outdated(path: String)
    /// The database is gone (or empty) but the audit log of its state is still there.
    case lostNextToLog(path: String, log: String, records: Int64)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no state database at \(path): the agent has not run with this state.path yet"
        case .unreadable(let path, let reason):
            return """
                the state database \(path) cannot be read (\(reason)); the agent will not guess what is deployed. \
                Restore state.sqlite and audit.jsonl together from a backup, or rebuild the state from the audit log \
                (docs/operations.md, "Damaged state")
                """
        case .outdated(let path):
            return "the state database \(path) was written by an older agent; start the agent once to upgrade it"
        case .lostNextToLog(let path, let log, let records):
            return """
                the state database \(path) is missing or empty, but the audit log \(log) holds \(records) records of \
                the state it belonged to; refusing to start, which would forget what is deployed and redeploy. \
                Restore state.sqlite and audit.jsonl together from a backup, or rebuild the state from the audit log \
                (docs/operations.md, "Damaged state")
                """
        }
    }
}

extension StateStore {
    /// One agent per store (SQLite): nothing else can have promoted the stage since the plan.
    public func claimPromotion(_ action: PromotionAction, specDigest: String, at date: Date) throws -> PromotionRecord? {
        try startPromotion(action.key, candidate: action.candidate, previous: action.previous, specDigest: specDigest, at: date)
    }
}

extension StateReader {
    public func stagesAndRunningPromotions() throws -> (stages: [StageKey: StageRecord], running: [PromotionRecord]) {
        let (stages, promotions) = try stagesAndPromotions()
        return (stages, promotions.filter { $0.status == .running })
    }
}
