import Foundation
import GRDB
import SpecModel

extension SQLiteStateStore {
    public func stages() throws -> [StageKey: StageRecord] {
        try database.read(stages(in:))
    }

    public func stagesAndPromotions() throws -> (stages: [StageKey: StageRecord], promotions: [PromotionRecord]) {
        try database.read { db in (try stages(in: db), try promotions(in: db)) }
    }

    public func stagesAndRunningPromotions() throws -> (stages: [StageKey: StageRecord], running: [PromotionRecord]) {
        try database.read { db in
            let running =
                try readCache?.promotions(in: db).filter { $0.status == .running }
                ?? Row.fetchAll(db, sql: "SELECT * FROM promotions WHERE status = 'running' ORDER BY id").map(Self.promotion)
            return (try stages(in: db), running)
        }
    }

    private func stages(in db: Database) throws -> [StageKey: StageRecord] {
        if let readCache { return try readCache.stages(in: db) }
        let records = try Row.fetchAll(db, sql: "SELECT * FROM stages").map(Self.stage)
        return Dictionary(records.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
    }

    static func stage(_ row: Row) -> StageRecord {
        StageRecord(
            key: StageKey(row["pipeline"], row["stage"]), current: row["current"], previous: row["previous"],
            health: Health(rawValue: row["health"]) ?? .unknown, updatedAt: row["updated_at"],
            blockedReason: row["blocked_reason"], phase: row["phase"])
    }

    public func savePhase(_ phase: String, blockedReason: String?, for key: StageKey) throws {
        try database.write { db in try Self.savePhase(in: db, phase, blockedReason: blockedReason, for: key) }
    }

    static func savePhase(in db: Database, _ phase: String, blockedReason: String?, for key: StageKey) throws {
        try db.execute(
            sql: """
                INSERT INTO stages (pipeline, stage, phase, blocked_reason) VALUES (?, ?, ?, ?)
                ON CONFLICT(pipeline, stage) DO UPDATE SET phase = excluded.phase, blocked_reason = excluded.blocked_reason
                """, arguments: [key.pipeline, key.stage, phase, blockedReason])
    }

    public func saveHealth(_ health: Health, for key: StageKey) throws {
        try database.write { db in try Self.saveHealth(in: db, health, for: key) }
    }

    static func saveHealth(in db: Database, _ health: Health, for key: StageKey) throws {
        try db.execute(
            sql: """
                INSERT INTO stages (pipeline, stage, health) VALUES (?, ?, ?)
                ON CONFLICT(pipeline, stage) DO UPDATE SET health = excluded.health
                """, arguments: [key.pipeline, key.stage, health.rawValue])
    }

    public func promotions() throws -> [PromotionRecord] {
        try database.read(promotions(in:))
    }

    private func promotions(in db: Database) throws -> [PromotionRecord] {
        if let readCache { return try readCache.promotions(in: db) }
        return try Row.fetchAll(db, sql: "SELECT * FROM promotions ORDER BY id").map(Self.promotion)
    }

    static func promotion(_ row: Row) -> PromotionRecord {
        PromotionRecord(
            id: row["id"], key: StageKey(row["pipeline"], row["stage"]), candidate: row["candidate"],
            previous: row["previous"], status: PromotionStatus(rawValue: row["status"]) ?? .failed,
            startedAt: row["started_at"], endedAt: row["ended_at"], reason: row["reason"], specDigest: row["spec_digest"])
    }

    public func startPromotion(
        _ key: StageKey, candidate: String, previous: String?, specDigest: String, at date: Date
    ) throws -> PromotionRecord {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO promotions (pipeline, stage, candidate, previous, status, started_at, spec_digest)
                    VALUES (?, ?, ?, ?, 'running', ?, ?)
                    """, arguments: [key.pipeline, key.stage, candidate, previous, date, specDigest])
            return PromotionRecord(
                id: db.lastInsertedRowID, key: key, candidate: candidate, previous: previous, status: .running,
                startedAt: date, endedAt: nil, reason: nil, specDigest: specDigest)
        }
    }

    public func finishPromotion(_ outcome: PromotionOutcome) throws {
        try database.write { db in try Self.finishPromotion(in: db, outcome) }
    }

    static func finishPromotion(in db: Database, _ outcome: PromotionOutcome) throws {
        let promotion = outcome.promotion
        try db.execute(
            sql: "UPDATE promotions SET status = ?, reason = ?, ended_at = ? WHERE id = ?",
            arguments: [outcome.status.rawValue, outcome.reason, outcome.at, promotion.id])
        guard outcome.status == .succeeded else { return }
        try db.execute(
            sql: """
                INSERT INTO stages (pipeline, stage, current, previous, updated_at) VALUES (?, ?, ?, NULL, ?)
                ON CONFLICT(pipeline, stage) DO UPDATE SET previous = stages.current, current = excluded.current,
                  updated_at = excluded.updated_at, blocked_reason = NULL
                """, arguments: [promotion.key.pipeline, promotion.key.stage, promotion.candidate, outcome.at])
    }

    public func recordStepRun(_ run: StepRunRecord) throws {
        try database.write { db in try Self.recordStepRun(in: db, run) }
    }

    static func recordStepRun(in db: Database, _ run: StepRunRecord) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO step_runs (promotion_id, phase, name, attempt, exit_status, duration_ms, output_sha256,
                  log_path, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                run.promotionID, run.phase, run.name, run.attempt, run.exitStatus.map { Int64($0) }, run.durationMs,
                run.outputSHA256, run.logPath, run.result,
            ])
    }

    public func stepRuns(promotion id: Int64) throws -> [StepRunRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM step_runs WHERE promotion_id = ? ORDER BY id", arguments: [id]).map {
                StepRunRecord(
                    promotionID: $0["promotion_id"], phase: $0["phase"], name: $0["name"], attempt: $0["attempt"],
                    exitStatus: ($0["exit_status"] as Int64?).map { Int32(truncatingIfNeeded: $0) },
                    durationMs: $0["duration_ms"], outputSHA256: $0["output_sha256"], logPath: $0["log_path"],
                    result: $0["result"])
            }
        }
    }

    public func lastPlan() throws -> Plan? {
        let rows = try database.read { db in try String.fetchAll(db, sql: "SELECT json FROM plan_pipelines ORDER BY name") }
        return planRows.plan(rows)
    }

    public func savePlanPipelines(_ changed: [String: String], removed: [String]) throws {
        try database.write { db in try Self.savePlanPipelines(in: db, changed, removed: removed) }
    }

    static func savePlanPipelines(in db: Database, _ changed: [String: String], removed: [String]) throws {
        for (name, json) in changed {
            try db.execute(
                sql: "INSERT INTO plan_pipelines (name, json) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET json = excluded.json",
                arguments: [name, json])
        }
        for name in removed { try db.execute(sql: "DELETE FROM plan_pipelines WHERE name = ?", arguments: [name]) }
    }
}

extension SQLiteStateStore {
    public func validSpecs() throws -> [String: ValidSpec] {
        try database.read { db in
            var specs: [String: ValidSpec] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM valid_specs") {
                let json: String = row["json"]
                guard let pipeline = try? JSONDecoder().decode(Pipeline.self, from: Data(json.utf8)) else { continue }
                specs[pipeline.name] = ValidSpec(pipeline: pipeline, file: row["file"], commit: row["commit_id"])
            }
            return specs
        }
    }

    public func saveValidSpec(_ spec: ValidSpec) throws {
        try database.write { db in try Self.saveValidSpec(in: db, spec) }
    }

    static func saveValidSpec(in db: Database, _ spec: ValidSpec) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(spec.pipeline), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO valid_specs (pipeline, json, file, commit_id) VALUES (?, ?, ?, ?)
                ON CONFLICT(pipeline) DO UPDATE SET json = excluded.json, file = excluded.file, commit_id = excluded.commit_id
                """, arguments: [spec.pipeline.name, json, spec.file, spec.commit])
    }
}

extension SQLiteStateStore {
    public func marker(_ name: String) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "SELECT value FROM markers WHERE name = ?", arguments: [name]) }
    }

    public func setMarker(_ name: String, _ value: String) throws {
        try database.write { db in try Self.setMarker(in: db, name, value) }
    }

    static func setMarker(in db: Database, _ name: String, _ value: String) throws {
        try db.execute(
            sql: "INSERT INTO markers (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            arguments: [name, value])
    }

    public func markAudited(_ key: String) throws -> Bool {
        try database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO audited_once (key) VALUES (?)", arguments: [key])
            return db.changesCount > 0
        }
    }
}

extension SQLiteStateStore {
    public func sourceState() throws -> SourceState? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM source_state WHERE id = 1").map {
                SourceState(url: $0["url"], lastFetch: $0["last_fetch"], lastError: $0["last_error"])
            }
        }
    }

    public func saveSourceState(_ state: SourceState) throws {
        try database.write { db in try Self.saveSourceState(in: db, state) }
    }

    static func saveSourceState(in db: Database, _ state: SourceState) throws {
        try db.execute(
            sql: """
                INSERT INTO source_state (id, url, last_fetch, last_error) VALUES (1, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET url = excluded.url, last_fetch = excluded.last_fetch, last_error = excluded.last_error
                """, arguments: [state.url, state.lastFetch, state.lastError])
    }
}

extension SQLiteStateStore {
    public func commit(_ changes: [StateChange], anchor: AuditAnchor) throws {
        try database.write { db in
            try Self.setAuditAnchor(in: db, anchor)
            for change in changes { try Self.apply(change, in: db) }
        }
    }

    public func apply(_ changes: [StateChange]) throws {
        try database.write { db in
            for change in changes { try Self.apply(change, in: db) }
        }
    }

    static func apply(_ change: StateChange, in db: Database) throws {
        switch change {
        case .stepRun(let run): try recordStepRun(in: db, run)
        case .outcome(let outcome): try finishPromotion(in: db, outcome)
        case .health(let health, let key): try saveHealth(in: db, health, for: key)
        case .phase(let phase, let blocked, let key): try savePhase(in: db, phase, blockedReason: blocked, for: key)
        case .marker(let name, let value): try setMarker(in: db, name, value)
        case .planPipelines(let changed, let removed): try savePlanPipelines(in: db, changed, removed: removed)
        case .sourceState(let state): try saveSourceState(in: db, state)
        case .validSpec(let spec): try saveValidSpec(in: db, spec)
        case .retry(let retry): try saveRetry(in: db, retry)
        }
    }
}

extension SQLiteStateStore {
    public func retries() throws -> [RetryRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM retries ORDER BY requested_at").map { row in
                RetryRecord(
                    key: StageKey(row["pipeline"], row["stage"]), candidate: row["candidate"],
                    requestedAt: row["requested_at"], requestedBy: row["requested_by"], reason: row["reason"])
            }
        }
    }

    static func saveRetry(in db: Database, _ retry: RetryRecord) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO retries (pipeline, stage, candidate, requested_at, requested_by, reason)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                retry.key.pipeline, retry.key.stage, retry.candidate, retry.requestedAt, retry.requestedBy, retry.reason,
            ])
    }
}
