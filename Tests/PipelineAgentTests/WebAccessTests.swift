import Foundation
import TestSupport
import Testing

/// `http.readTokenEnv`: the page, the status API, the metrics and the export need the token; probes stay
/// open; the webhook keeps its HMAC; no step ever sees the token. Then the page's links, filters and export.
@Suite("Reading the web page")
struct WebAccessTests {
    static let token = "read-token-5f1e0c7a"

    func startedAgent() throws -> (AgentFixture, RunningAgent, String) {
        let port = try freeLoopbackPort()
        let page = WebPageTests()
        let (fixture, _) = try page.hostileFixture(
            extraConfig: "http: {listen: \"127.0.0.1:\(port)\", webhookSecretEnv: PA_TEST_HOOK, readTokenEnv: PA_READ_TOKEN}\n"
        )
        let agent = try RunningAgent(
            fixture, port: port,
            environment: ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "hook-secret", "PA_READ_TOKEN": Self.token])
        let log = fixture.git.scratch.sub("state/audit.jsonl")
        for _ in 0..<200 where !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("promotion.succeeded") {
            usleep(50_000)
        }
        return (fixture, agent, "http://127.0.0.1:\(port)")
    }

    @Test("without the token nothing is readable but the probes; the webhook keeps its HMAC; steps never see it")
    func token() throws {
        let (fixture, agent, base) = try startedAgent()
        defer { _ = agent.terminate() }
        let guarded = ["/", "/api/v1/status", "/metrics", "/audit", "/audit/export.jsonl", "/promotions/1", "/static/style.css"]
        for path in guarded {
            #expect(try agent.curl(base + path).code == "401", "\(path) without a token")
            #expect(try agent.curl("-H", "Authorization: Bearer wrong", base + path).code == "401", "\(path), wrong token")
            #expect(try agent.curl("-u", "x:\(Self.token)x", base + path).code == "401", "\(path), wrong password")
            #expect(try agent.curl("-H", "Authorization: Bearer \(Self.token)", base + path).code == "200", "\(path), bearer")
            #expect(try agent.curl("-u", "auditor:\(Self.token)", base + path).code == "200", "\(path), basic")
        }
        let challenge = try runProcess(["curl", "-s", "-D", "-", "-o", "/dev/null", base + "/"]).stdout
        #expect(challenge.contains("WWW-Authenticate: Basic realm=\"pipeline-agent\""), "a browser is asked for it")
        #expect(try agent.curl(base + "/healthz").code == "200")
        let hook = ["-X", "POST", "-d", "{}", base + "/hooks/git"]
        #expect(try agent.curl(hook[0], hook[1], hook[2], hook[3], hook[4]).code == "401", "webhook without HMAC")
        #expect(
            try agent.curl("-H", "Authorization: Bearer \(Self.token)", hook[0], hook[1], hook[2], hook[3], hook[4]).code
                == "401", "the read token is no webhook signature")

        let page = try agent.curl("-u", "a:\(Self.token)", base + "/promotions/1")
        #expect(
            page.body.contains("read token: absent"),
            "the step's environment lacks the token: \(page.body) \((try? sh("ls", "-laR", fixture.git.scratch.sub("state/logs"))) ?? "")"
        )
        #expect(!page.body.contains(Self.token))
        let headers = try runProcess(["curl", "-s", "-D", "-", "-o", "/dev/null", "-u", "a:\(Self.token)", base + "/"]).stdout
        #expect(headers.contains("Content-Security-Policy: default-src 'none'; style-src 'self'"))
        #expect(headers.contains("X-Content-Type-Options: nosniff") && headers.contains("Cache-Control: no-store"))
    }

    @Test("stable links, filters, paging, not-found pages and an export that verifies")
    func navigation() throws {
        let (fixture, agent, base) = try startedAgent()
        defer { _ = agent.terminate() }
        func get(_ path: String) throws -> (code: String, body: String) {
            try agent.curl("-H", "Authorization: Bearer \(Self.token)", base + path)
        }
        #expect(try get("/").body.contains(#"href="/pipelines/shop/stages/dev""#))
        #expect(try get("/pipelines/shop/stages/dev").body.contains(#"href="/promotions/1""#))
        let promotions = try get("/audit?type=promotion.").body
        #expect(promotions.contains(">promotion.started<") && promotions.contains(">promotion.succeeded<"))
        #expect(!promotions.contains(">step.started<") && !promotions.contains(">agent.started<"))
        #expect(try get("/audit?type=step.started&stage=dev").body.contains("1 records match"))
        #expect(try get("/audit?since=yesterday-ish").body.contains("since &#39;yesterday-ish&#39; is neither a time"))
        #expect(try get("/audit?until=2000-01-01").body.contains("No record matches."))
        #expect(try get("/promotions/999").code == "404")
        #expect(try get("/pipelines/shop/stages/nope").code == "404")
        #expect(try get("/pipelines/%3Cscript%3E/stages/x").body.contains("no stage &lt;script&gt;/x"))

        let exported = try get("/audit/export.jsonl").body
        let file = fixture.git.scratch.sub("export.jsonl")
        try Data(exported.utf8).write(to: URL(fileURLWithPath: file))
        let log = try String(contentsOfFile: fixture.git.scratch.sub("state/audit.jsonl"), encoding: .utf8)
        #expect(log.hasPrefix(exported) && !exported.isEmpty, "the export is the log as stored (as of the request)")
        let verified = try fixture.agent("audit", "verify")
        #expect(verified.status == 0 && verified.stdout.contains("chain intact"), "\(verified.stdout)\(verified.stderr)")
        #expect(try get("/audit/export.csv?stage=dev").body.hasPrefix("seq,time,type,pipeline,stage,candidate,actor"))

        let audit = try get("/audit").body
        #expect(audit.contains("chain intact"), "the audit page verifies the chain")
        // Page 2 exists once there are more than 100 records; here the first page is the last.
        #expect(audit.contains("page 1 of 1") && !audit.contains("older →"))
    }
}
