import GRDB

/// Tables of the v2 migration: stages, promotions, step runs and the last plan.
enum StoreSchema {
    static func createStateTables(_ db: Database) throws {
        try db.create(table: "stages") { table in
            table.column("pipeline", .text).notNull()
            table.column("stage", .text).notNull()
            table.column("current", .text)
            table.column("previous", .text)
            table.column("health", .text).notNull().defaults(to: "Unknown")
            table.column("updated_at", .datetime)
            table.column("blocked_reason", .text)
            table.primaryKey(["pipeline", "stage"])
        }
        try db.create(table: "promotions") { table in
            table.autoIncrementedPrimaryKey("id")
            table.column("pipeline", .text).notNull()
            table.column("stage", .text).notNull()
            table.column("candidate", .text).notNull()
            table.column("previous", .text)
            table.column("status", .text).notNull()
            table.column("started_at", .datetime).notNull()
            table.column("ended_at", .datetime)
            table.column("reason", .text)
            table.column("spec_digest", .text).notNull()
        }
        try db.create(index: "promotions_by_stage", on: "promotions", columns: ["pipeline", "stage", "candidate"])
        try db.create(table: "step_runs") { table in
            table.autoIncrementedPrimaryKey("id")
            table.column("promotion_id", .integer).notNull().references("promotions")
            table.column("phase", .text).notNull()
            table.column("name", .text).notNull()
            table.column("attempt", .integer).notNull()
            table.column("exit_status", .integer)
            table.column("duration_ms", .integer).notNull()
            table.column("output_sha256", .text)
            table.column("log_path", .text)
            table.column("result", .text).notNull()
        }
        try db.create(table: "valid_specs") { table in
            table.column("pipeline", .text).primaryKey()
            table.column("json", .text).notNull()
            table.column("file", .text).notNull()
            table.column("commit_id", .text).notNull()
        }
        try db.create(table: "last_plan") { table in
            table.column("id", .integer).primaryKey().check { $0 == 1 }
            table.column("json", .text).notNull()
            table.column("created_at", .datetime).notNull()
        }
    }
}
