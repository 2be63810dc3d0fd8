import Foundation
import TestSupport
import Testing

@Suite("The Olist story with real dbt on DuckDB")
struct OlistDemoTests {
    func rows(_ warehouse: String, _ database: String, _ table: String) throws -> Int {
        let python = "\(repositoryRoot)/.venv/bin/python"
        let script =
            "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); print(c.execute('select count(*) from ' + sys.argv[2]).fetchone()[0])"
        return Int(try sh(python, "-c", script, "\(warehouse)/\(database).duckdb", table)) ?? -1
    }

    @Test("the demo's story happens, and the state store, the warehouses, the audit log and the web page say so")
    func story() throws {
        let scratch = try Scratch("olist-e2e")
        let result = try runProcess(["\(repositoryRoot)/scripts/olist-demo.sh"], environment: ["DEMO_DIR": scratch.path])
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\(result.stderr.suffix(2000))")
        let database = scratch.sub("state/state.sqlite")
        let outcomes = try sh("sqlite3", database, "select stage || ':' || status from promotions order by id")
        #expect(
            outcomes.split(separator: "\n") == [
                "dev:succeeded", "staging:succeeded", "prod:succeeded", "dev:succeeded", "staging:rolled-back",
                "dev:succeeded", "staging:succeeded",
            ])
        let first = try sh("git", "-C", scratch.sub("work"), "rev-list", "--max-parents=0", "HEAD")
        #expect(try sh("sqlite3", database, "select current from stages where stage = 'prod'") == first)

        let warehouse = scratch.sub("warehouse")
        #expect(try rows(warehouse, "prod", "fct_orders") == 5000)
        #expect(try rows(warehouse, "staging", "fct_orders") == 5000, "staging rebuilt by the fix, duplicates gone")
        #expect(try rows(warehouse, "prod", "daily_revenue") == (try rows(warehouse, "staging", "daily_revenue")))
        #expect(FileManager.default.fileExists(atPath: "\(warehouse)/staging.duckdb.backup"))

        let verify = try runProcess([agentBinary(), "audit", "verify", "--config", scratch.sub("agent.yaml")])
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"))
        let audit = try String(contentsOfFile: scratch.sub("state/audit.jsonl"), encoding: .utf8)
        for type in [
            "approval.accepted", "gate.blocked", "rollback.finished", "verify.failed", "health.changed", "notification.sent",
            "policy.tightened",
        ] {
            #expect(audit.contains(#""type":"\#(type)""#), "no \(type) record")
        }
        #expect(audit.contains(#""phase":"Frozen""#))
        #expect(
            result.stdout.contains("floor: protect[0] tightens promotion: spec says auto, the agent uses manual"),
            "the demo shows the floor holding prod")
        let notifications = try String(contentsOfFile: scratch.sub("notifications.jsonl"), encoding: .utf8)
        #expect(notifications.contains("/pagerduty") && notifications.contains("rolled-back"))
        try checkWebPage(scratch)
    }
}
