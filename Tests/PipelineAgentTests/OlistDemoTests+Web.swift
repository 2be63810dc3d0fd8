import Foundation
import TestSupport
import Testing

extension OlistDemoTests {
    /// After the story: the agent serves its page over the demo's state, and a real browser finds prod
    /// waiting for approval under the floor, staging's rolled-back promotion with its failing check and
    /// restore step, and an intact chain. Screenshots go to `.build/test-output/web`.
    func checkWebPage(_ scratch: Scratch) throws {
        let port = try freeLoopbackPort()
        let config = scratch.sub("agent.yaml")
        let yaml = try String(contentsOfFile: config, encoding: .utf8)
        try Data((yaml + "http: {listen: \"127.0.0.1:\(port)\"}\n").utf8).write(to: URL(fileURLWithPath: config))
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: agentBinary())
        agent.arguments = ["run", "--config", config]
        agent.environment = ProcessInfo.processInfo.environment.merging([
            "OLIST_WAREHOUSE_DIR": scratch.sub("warehouse"), "PD_ROUTING_KEY": "demo-routing-key",
            "PATH": "\(repositoryRoot)/.venv/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ]) { $1 }
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer {
            kill(agent.processIdentifier, SIGTERM)
            agent.waitUntilExit()
        }
        #expect(waitForPort(port), "the agent serves its page")
        let base = "http://127.0.0.1:\(port)"

        let overview = try HeadlessBrowser.load(base + "/")
        #expect(overview.console.isEmpty, "\(overview.console)")
        let prodCard = overview.dom.components(separatedBy: ">prod</a>").dropFirst().first ?? ""
        #expect(prodCard.contains(">WaitingApproval<"), "prod waits for approval: \(prodCard.prefix(800))")
        #expect(prodCard.contains("floor protect[0]: promotion auto → manual"), "the floor's tightenings")
        #expect(prodCard.contains("; approvals.required 0 → 2"))
        try HeadlessBrowser.screenshot(base + "/", name: "olist-overview", height: 760)

        let rolledBack = try sh(
            "sqlite3", scratch.sub("state/state.sqlite"), "select id from promotions where status = 'rolled-back'")
        let promotion = try HeadlessBrowser.load(base + "/promotions/\(rolledBack)")
        #expect(promotion.console.isEmpty, "\(promotion.console)")
        #expect(promotion.dom.contains(">rolled-back<"))
        #expect(promotion.dom.contains("measured 1236: 1236 failing rows crosses errorIf &gt;100"), "the failing check")
        let rollback = promotion.dom.components(separatedBy: "<h2>Rollback</h2>").dropFirst().first ?? ""
        #expect(
            rollback.contains(#"<b class="ok">succeeded</b> step <code>restore-backup</code>"#),
            "the restore step: \(rollback.prefix(600))")
        #expect(promotion.dom.contains("fct_orders: read payments straight from staging"), "the promoted commit")
        try HeadlessBrowser.screenshot(base + "/promotions/\(rolledBack)", name: "olist-rolled-back-promotion", height: 2400)

        let prodID = try sh("sqlite3", scratch.sub("state/state.sqlite"), "select id from promotions where stage = 'prod'")
        let prod = try HeadlessBrowser.load(base + "/promotions/\(prodID)")
        let approvals = prod.dom.components(separatedBy: "Approvals it started on").dropFirst().first ?? ""
        for approver in ["alice@acme.test", "bob@acme.test"] {
            #expect(approvals.contains("<strong>\(approver)</strong>, key <code>SHA256:"), "\(approver)'s approval and key")
        }
        #expect(approvals.contains("signed stage digest <code>sha256:"), "the stage digest each approval binds to")
        #expect(prod.dom.contains(">Frozen<") && prod.dom.contains("frozen: freeze is true in the spec"), "the gates")

        let audit = try HeadlessBrowser.load(base + "/audit")
        #expect(audit.console.isEmpty, "\(audit.console)")
        #expect(audit.dom.contains(">chain intact<"), "\(audit.dom.prefix(1500))")
        try HeadlessBrowser.screenshot(base + "/audit", name: "olist-audit", height: 900)
    }
}
