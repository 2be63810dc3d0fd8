import Foundation
import SpecModel

extension PostgresStateStore {
    public func savePhase(_ phase: String, blockedReason: String?, for key: StageKey) throws {
        try apply([.phase(phase, blockedReason: blockedReason, key)])
    }

    public func saveHealth(_ health: Health, for key: StageKey) throws {
        try apply([.health(health, key)])
    }

    public func startPromotion(
        _ key: StageKey, candidate: String, previous: String?, specDigest: String, at date: Date
    ) throws -> PromotionRecord {
        let agent = lease?.instance
        return try locked { connection in
            let rows = try Self.write(on: connection) {
                try fence([], as: agent, on: connection)
                return try connection.execute(
                    """
                    INSERT INTO promotions (pipeline, stage, candidate, previous, status, started_at, spec_digest, agent)
                    VALUES ($1, $2, $3, $4, 'running', to_timestamp($5::bigint / 1000.0), $6, $7) RETURNING id
                    """, [key.pipeline, key.stage, candidate, previous, Self.ms(date), specDigest, agent])
            }
            return PromotionRecord(
                id: Int64(rows.rows.first?[0] ?? "") ?? 0, key: key, candidate: candidate, previous: previous,
                status: .running, startedAt: date, endedAt: nil, reason: nil, specDigest: specDigest)
        }
    }

    public func finishPromotion(_ outcome: PromotionOutcome) throws { try apply([.outcome(outcome)]) }

    public func recordStepRun(_ run: StepRunRecord) throws { try apply([.stepRun(run)]) }

    public func saveValidSpec(_ spec: ValidSpec) throws { try apply([.validSpec(spec)]) }

    public func saveSourceState(_ state: SourceState) throws { try apply([.sourceState(state)]) }

    public func markAudited(_ key: String) throws -> Bool {
        try locked { connection in
            try connection.execute("INSERT INTO audited_once (key) VALUES ($1) ON CONFLICT DO NOTHING", [key]).affected > 0
        }
    }

    public func setMarker(_ name: String, _ value: String) throws { try apply([.marker(name, value)]) }

    public func savePlanPipelines(_ changed: [String: String], removed: [String]) throws {
        try apply([.planPipelines(changed: changed, removed: removed)])
    }

    /// With the file log's anchor: not this store's (its chain is a table); see `setAuditAnchor`.
    public func commit(_ changes: [StateChange], anchor: AuditAnchor) throws {
        try setAuditAnchor(anchor)
    }

    public func apply(_ changes: [StateChange]) throws {
        guard !changes.isEmpty else { return }
        let agent = lease?.instance
        try locked { connection in
            try Self.write(on: connection) {
                try fence(Self.promotionIDs([], changes), as: agent, on: connection)
                for change in changes { try Self.apply(change, on: connection) }
            }
        }
    }

    static func apply(_ change: StateChange, on connection: PostgresConnection) throws {
        switch change {
        case .stepRun(let run): try recordStepRun(run, on: connection)
        case .outcome(let outcome): try finishPromotion(outcome, on: connection)
        case .health(let health, let key):
            try connection.execute(
                """
                INSERT INTO stages (pipeline, stage, health) VALUES ($1, $2, $3)
                ON CONFLICT (pipeline, stage) DO UPDATE SET health = excluded.health
                """, [key.pipeline, key.stage, health.rawValue])
        case .phase(let phase, let blocked, let key):
            try connection.execute(
                """
                INSERT INTO stages (pipeline, stage, phase, blocked_reason) VALUES ($1, $2, $3, $4)
                ON CONFLICT (pipeline, stage) DO UPDATE SET phase = excluded.phase, blocked_reason = excluded.blocked_reason
                """, [key.pipeline, key.stage, phase, blocked])
        case .marker(let name, let value):
            try connection.execute(
                "INSERT INTO markers (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [name, value])
        case .planPipelines(let changed, let removed): try savePlan(changed, removed: removed, on: connection)
        case .sourceState(let state):
            try connection.execute(
                """
                INSERT INTO source_state (id, url, last_fetch, last_error) VALUES (1, $1, to_timestamp($2::bigint / 1000.0), $3)
                ON CONFLICT (id) DO UPDATE SET url = excluded.url, last_fetch = excluded.last_fetch, last_error = excluded.last_error
                """, [state.url, ms(state.lastFetch), state.lastError])
        case .validSpec(let spec): try saveValidSpec(spec, on: connection)
        case .retry(let retry):
            try connection.execute(
                """
                INSERT INTO retries (pipeline, stage, candidate, requested_at, requested_by, reason)
                VALUES ($1, $2, $3, to_timestamp($4::bigint / 1000.0), $5, $6)
                ON CONFLICT (pipeline, stage, candidate) DO UPDATE SET requested_at = excluded.requested_at,
                  requested_by = excluded.requested_by, reason = excluded.reason
                """,
                [retry.key.pipeline, retry.key.stage, retry.candidate, ms(retry.requestedAt), retry.requestedBy, retry.reason])
        }
    }

    private static func recordStepRun(_ run: StepRunRecord, on connection: PostgresConnection) throws {
        try connection.execute(
            """
            INSERT INTO step_runs (promotion_id, phase, name, attempt, exit_status, duration_ms, output_sha256, log_path, result)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [
                String(run.promotionID), run.phase, run.name, String(run.attempt), run.exitStatus.map { String($0) },
                String(run.durationMs), run.outputSHA256, run.logPath, run.result,
            ])
    }

    private static func finishPromotion(_ outcome: PromotionOutcome, on connection: PostgresConnection) throws {
        let promotion = outcome.promotion
        try connection.execute(
            "UPDATE promotions SET status = $1, reason = $2, ended_at = to_timestamp($3::bigint / 1000.0) WHERE id = $4",
            [outcome.status.rawValue, outcome.reason, ms(outcome.at), String(promotion.id)])
        guard outcome.status == .succeeded else { return }
        try connection.execute(
            """
            INSERT INTO stages (pipeline, stage, current, previous, updated_at) VALUES ($1, $2, $3, NULL, to_timestamp($4::bigint / 1000.0))
            ON CONFLICT (pipeline, stage) DO UPDATE SET previous = stages.current, current = excluded.current,
              updated_at = excluded.updated_at, blocked_reason = NULL
            """, [promotion.key.pipeline, promotion.key.stage, promotion.candidate, ms(outcome.at)])
    }

    private static func savePlan(_ changed: [String: String], removed: [String], on connection: PostgresConnection) throws {
        for (name, json) in changed {
            try connection.execute(
                "INSERT INTO plan_pipelines (name, json) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET json = excluded.json",
                [name, json])
        }
        for name in removed { try connection.execute("DELETE FROM plan_pipelines WHERE name = $1", [name]) }
    }

    private static func saveValidSpec(_ spec: ValidSpec, on connection: PostgresConnection) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(spec.pipeline), as: UTF8.self)
        try connection.execute(
            """
            INSERT INTO valid_specs (pipeline, json, file, commit_id) VALUES ($1, $2, $3, $4)
            ON CONFLICT (pipeline) DO UPDATE SET json = excluded.json, file = excluded.file, commit_id = excluded.commit_id
            """, [spec.pipeline.name, json, spec.file, spec.commit])
    }
}
