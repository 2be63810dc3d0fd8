import Foundation
import TestSupport
import Testing

/// Attacks 8–10 of the isolation issue: a committer takes a pipeline over by name, deploys an
/// unreviewed branch, or writes terminal escapes and forged lines into what people read.
@Suite("What a merged commit cannot do: take a pipeline over, deploy another branch, forge output")
struct CommitterAttackTests {
    static var stages: String {
        [deployStage("dev", strict: false), deployStage("staging", from: "dev", strict: false)].joined(separator: "\n")
    }

    @Test("a second file defining the same pipeline name takes nothing over: both are Invalid, the last valid spec stays")
    func hijackByName() throws {
        let fixture = try AgentFixture(stages: Self.stages)
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let hijack = AgentFixture.pipeline(
            "shop", paths: #"["app/**"]"#, stages: #"    - {name: dev, steps: [{name: own, run: 'touch "$PA_ROOT/hijacked"'}]}"#)
        try fixture.push("add aaa", files: ["pipelines/aaa.yaml": hijack])
        try fixture.push("a change", files: ["app/version.txt": "v2\n"])
        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status == 1, "an invalid spec at the head fails run --once: \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/hijacked"), "the hijacking steps ran")
        let status = try fixture.status()
        #expect(Set(status.keys) == ["dev", "staging"], "the pipeline keeps its stages: \(status.keys)")
        #expect(status["dev"]?["phase"] as? String == "Invalid", "\(status)")
        let reason = status["dev"]?["reason"] as? String ?? ""
        #expect(reason.contains("pipeline 'shop' is already defined at pipelines/aaa.yaml"), "\(reason)")
        let both = [
            "pipelines/shop.yaml:3:18: error: pipeline 'shop' is already defined at pipelines/aaa.yaml:1",
            "pipelines/aaa.yaml:3:18: error: pipeline 'shop' is defined again at pipelines/shop.yaml:1",
        ]
        for line in both { #expect(run.stderr.contains(line), "\(run.stderr)") }
    }

    @Test("a spec that names another branch is Invalid; nothing pushed there is fetched or deployed")
    func otherBranch() throws {
        let fixture = try AgentFixture(stages: Self.stages)
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        try fixture.push(
            "follow wip", files: ["pipelines/shop.yaml": spec.replacingOccurrences(of: "branch: main", with: "branch: wip")])
        try fixture.git.git("checkout", "-q", "-b", "wip")
        try fixture.git.commit("unreviewed", files: ["app/version.txt": "evil\n"])
        try fixture.git.git("push", "-q", fixture.remote, "wip")
        try fixture.git.git("checkout", "-q", "main")

        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status == 1)
        #expect(try String(contentsOfFile: "\(fixture.root)/dev/version.txt", encoding: .utf8) == "v1\n")
        let dev = try #require(try fixture.status()["dev"])
        #expect(dev["phase"] as? String == "Invalid")
        #expect((dev["reason"] as? String ?? "").contains("source.branch 'wip' is not the branch this agent watches ('main')"))
        let branches = try sh("git", "--git-dir", "\(fixture.root)/state/mirror.git", "branch", "--format=%(refname:short)")
        #expect(branches == "main", "only the watched branch is mirrored: \(branches)")
    }

    @Test("escapes and newlines in file names and step output reach no terminal raw; a rejected file's actor is the agent")
    func outputInjection() throws {
        let (fixture, _) = try ApprovalEndToEndTests.world()
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        let name = "approvals/shop/prod/x\u{1B}]0;pwned\u{07}\n9999 2026-01-01T00:00:00.000Z promotion.succeeded shop/prod.yaml"
        let document = """
            apiVersion: pipeline-agent/v1
            kind: Approval
            pipeline: shop
            stage: prod
            candidate: "\(candidate)"
            approver: "alice@acme.test"

            """
        try fixture.push("sneaky approval", files: [name: document])
        _ = try fixture.agent("run", "--once", environment: env)
        for arguments in [["audit", "log"], ["status"], ["plan"]] {
            let result = try runProcess([agentBinary()] + arguments + ["--config", fixture.configPath])
            let text = result.stdout + result.stderr
            #expect(!text.contains("\u{1B}") && !text.contains("\u{07}"), "\(arguments): raw control characters")
            #expect(!text.split(separator: "\n").contains { $0.hasPrefix("9999 ") }, "\(arguments): a forged line")
        }
        let log = try fixture.agent("audit", "log", "--output", "json").stdout
        let rejected = log.split(separator: "\n").filter { $0.contains(#""type":"approval.rejected""#) }
        #expect(!rejected.isEmpty)
        #expect(rejected.allSatisfy { $0.contains(#""actor":"agent""#) }, "\(rejected)")
    }

    @Test("a secret is granted to pipeline/stage pairs: a bare stage name is refused, a new pipeline's prod gets nothing")
    func secretByStageName() throws {
        let shopProd = deployStage("prod", strict: false).replacingOccurrences(
            of: "      steps:\n",
            with: "      steps:\n        - {name: own, run: 'echo \"own:${PROD_SECRET:+set}\" > \"$PA_ROOT/own\"'}\n")
        let fixture = try AgentFixture(
            stages: shopProd, extraConfig: "secrets:\n  PROD_SECRET: {env: PA_TEST_PROD_SECRET, stages: [prod]}\n")
        let intruder = AgentFixture.pipeline(
            "other", paths: #"["other/**"]"#,
            stages: #"    - {name: prod, steps: [{name: grab, run: 'echo "got:${PROD_SECRET:-nothing}" > "$PA_ROOT/grabbed"'}]}"#)
        try fixture.push("a new pipeline", files: ["pipelines/other.yaml": intruder, "other/x": "1\n"])
        let secret = "prod-\(UUID().uuidString)"
        let env = ["PA_ROOT": fixture.root, "PA_TEST_PROD_SECRET": secret]
        let refused = try fixture.agent("run", "--once", environment: env)
        #expect(refused.status != 0 && refused.stderr.contains("a bare stage name would also reach any new pipeline's stage"))
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/grabbed"), "nothing ran under the refused config")

        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "stages: [prod]", with: "stages: [shop/prod]")
            .write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try String(contentsOfFile: "\(fixture.root)/grabbed", encoding: .utf8) == "got:nothing\n")
        #expect(try String(contentsOfFile: "\(fixture.root)/own", encoding: .utf8) == "own:set\n")
    }
}
