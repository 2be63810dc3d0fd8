import Foundation
import TestSupport
import Testing

@Suite("Approvals end to end")
struct ApprovalEndToEndTests {
    static let prod = [
        "promotion: manual",
        "approvals: {required: 2, approvers: [alice@acme.test, bob@acme.test, carol@acme.test]}",
    ]

    /// A three-stage fixture whose agent trusts alice, bob and carol.
    static func world(extraConfig: String = "") throws -> (AgentFixture, String) {
        let stages = [
            deployStage("dev", strict: false), deployStage("staging", from: "dev", strict: false),
            deployStage("prod", from: "staging", strict: false, extra: prod),
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stages, extraConfig: "trust: {allowedSigners: ./allowed_signers}\n" + extraConfig)
        let keys = fixture.git.scratch.sub("keys")
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        var signers = ""
        for name in ["alice", "bob", "carol"] {
            try sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", "\(keys)/\(name)")
            let parts = try String(contentsOfFile: "\(keys)/\(name).pub", encoding: .utf8).split(separator: " ")
            signers += "\(name)@acme.test namespaces=\"pipeline-agent\" \(parts[0]) \(parts[1])\n"
        }
        try fixture.git.scratch.write("allowed_signers", signers)
        return (fixture, keys)
    }

    @Test("2 of 3: one approval with `approve --commit`, one with plain ssh-keygen squash-merged; prod is promoted")
    func twoOfThree() throws {
        let (fixture, keys) = try Self.world()
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        var prod = try fixture.status()["prod"]
        #expect(prod?["phase"] as? String == "WaitingApproval")
        #expect((prod?["reason"] as? String)?.contains("eligible: alice@acme.test, bob@acme.test, carol@acme.test") == true)

        let approve = try runProcess([
            agentBinary(), "approve", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", "prod", "--candidate",
            candidate,
            "--approver", "alice@acme.test", "--key", "\(keys)/alice", "--comment", "Reviewed", "--commit",
        ])
        #expect(approve.status == 0, "\(approve.stderr)")
        try fixture.git.git("push", "-q", fixture.remote, "main")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        prod = try fixture.status()["prod"]
        let approvals = prod?["approvals"] as? [String: Any]
        #expect(approvals?["have"] as? Int == 1 && approvals?["need"] as? Int == 2)
        #expect(approvals?["by"] as? [String] == ["alice@acme.test"])

        // Bob approves on a branch with plain ssh-keygen; the PR is squash-merged by someone else.
        try fixture.git.git("checkout", "-q", "-b", "bob-approval")
        let file = "approvals/shop/prod/bob.yaml"
        let digest = try runProcess([
            agentBinary(), "approval-digest", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", "prod",
        ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try fixture.git.scratch.write(
            "work/\(file)",
            "apiVersion: pipeline-agent/v1\nkind: Approval\npipeline: shop\nstage: prod\ncandidate: \"\(candidate)\"\n"
                + "approver: bob@acme.test\nstageDigest: \(digest)\n"
        )
        try sh("ssh-keygen", "-q", "-Y", "sign", "-f", "\(keys)/bob", "-n", "pipeline-agent", "\(fixture.git.path)/\(file)")
        try fixture.git.git("add", "-A")
        try fixture.git.git("commit", "-q", "-m", "bob approves", environment: ["GIT_AUTHOR_EMAIL": "bob@acme.test"])
        try fixture.git.git("checkout", "-q", "main")
        try fixture.git.git("merge", "-q", "--squash", "bob-approval")
        try fixture.git.git(
            "commit", "-q", "-m", "Squashed: bob approves", environment: ["GIT_COMMITTER_EMAIL": "merger@acme.test"])
        try fixture.git.git("push", "-q", fixture.remote, "main")

        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status == 0)
        #expect(run.stdout.contains("shop/prod: \(candidate.prefix(12)) succeeded"))
        prod = try fixture.status()["prod"]
        #expect(prod?["current"] as? String == candidate)
        let log = try fixture.agent("audit", "log", "--stage", "prod", "--output", "json").stdout
        let started = try #require(log.split(separator: "\n").first { $0.contains(#""type":"promotion.started""#) })
        #expect(started.contains("alice@acme.test") && started.contains("bob@acme.test") && started.contains("SHA256:"))
        #expect(log.contains(#""type":"approval.accepted""#))
    }

    @Test("an approval deleted before the promotion starts does not count")
    func revoked() throws {
        let (fixture, keys) = try Self.world()
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        for name in ["alice", "bob"] {
            let result = try runProcess([
                agentBinary(), "approve", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", "prod",
                "--candidate", candidate, "--approver", "\(name)@acme.test", "--key", "\(keys)/\(name)", "--commit",
            ])
            #expect(result.status == 0, "\(result.stderr)")
        }
        try fixture.git.git("push", "-q", fixture.remote, "main")
        let plan = try fixture.agent("plan")
        #expect(plan.stdout.contains("will promote"), "\(plan.stdout)")

        try fixture.git.git("rm", "-q", "-r", "approvals/shop/prod")
        try fixture.git.git("commit", "-q", "-m", "revoke approvals")
        try fixture.git.git("push", "-q", fixture.remote, "main")
        let run = try fixture.agent("run", "--once", environment: env)
        #expect(!run.stdout.contains("shop/prod"))
        #expect(try fixture.status()["prod"]?["phase"] as? String == "WaitingApproval")
    }

    @Test("approving again, as a renewal after a spec change does, commits a new file version at once")
    func renewal() throws {
        let (fixture, keys) = try Self.world()
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        var versions: Set<String> = []
        for _ in 0..<2 {
            let result = try runProcess([
                agentBinary(), "approve", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", "prod",
                "--candidate", candidate, "--approver", "alice@acme.test", "--key", "\(keys)/alice", "--commit",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            versions.insert(
                try fixture.git.git("rev-parse", "HEAD:approvals/shop/prod/\(candidate.prefix(12))-alice-acme.test.yaml"))
        }
        #expect(versions.count == 2, "each approval is a new version of the file")
    }

    @Test("approve refuses a candidate that is not a commit of the repository")
    func refusesUnknownCandidate() throws {
        let (fixture, keys) = try Self.world()
        let result = try runProcess([
            agentBinary(), "approve", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", "prod",
            "--candidate", String(repeating: "ab", count: 20), "--approver", "alice@acme.test", "--key", "\(keys)/alice",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("is not a commit of the repository"))
    }

    @Test("approve refuses what the agent would never count: unknown stage, not a candidate, another principal's key")
    func refusesWhatWouldNotCount() throws {
        let (fixture, keys) = try Self.world()
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        func approve(
            _ stage: String, _ commit: String, as approver: String, key: String, _ extra: [String] = []
        ) throws
            -> ProcessResult
        {
            try runProcess(
                [
                    agentBinary(), "approve", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", stage,
                    "--candidate", commit, "--approver", approver, "--key", "\(keys)/\(key)",
                ] + extra)
        }
        let unknownStage = try approve("production", candidate, as: "alice@acme.test", key: "alice")
        #expect(unknownStage.status == 1)
        #expect(unknownStage.stderr.contains("has no stage 'production' (stages: dev, staging, prod)"), "\(unknownStage.stderr)")
        // A commit that touches nothing under app/**: on the branch, but not a candidate of shop.
        let docs = try fixture.push("docs only", files: ["README.md": "hello\n"])
        let notCandidate = try approve("prod", docs, as: "alice@acme.test", key: "alice")
        #expect(notCandidate.status == 1)
        #expect(notCandidate.stderr.contains("changes nothing under shop's source.paths (app/**)"), "\(notCandidate.stderr)")
        // A commit on a side branch, never merged: not on main's first-parent history.
        try fixture.git.git("checkout", "-q", "-b", "side")
        let side = try fixture.git.commit("side", files: ["app/version.txt": "side\n"])
        try fixture.git.git("checkout", "-q", "main")
        let unmerged = try approve("prod", side, as: "alice@acme.test", key: "alice")
        #expect(unmerged.stderr.contains("is not on the first-parent history of main"), "\(unmerged.stderr)")
        // Bob's key signing as alice: refused against the agent's allowed_signers, and nothing is left behind.
        let signers = fixture.git.scratch.sub("allowed_signers")
        let forged = try approve("prod", candidate, as: "alice@acme.test", key: "bob", ["--allowed-signers", signers])
        #expect(forged.status == 1)
        #expect(forged.stderr.contains("signed by bob@acme.test's key, not by alice@acme.test"), "\(forged.stderr)")
        #expect(try fixture.git.git("status", "--porcelain").isEmpty, "nothing written")
        let honest = try approve("prod", candidate, as: "alice@acme.test", key: "alice", ["--allowed-signers", signers])
        #expect(honest.status == 0, "\(honest.stderr)")
    }

    @Test("validate --config judges approval files as the agent will: a forged or unsigned one fails the PR check")
    func validateApprovalFiles() throws {
        let (fixture, keys) = try Self.world()
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        let approve = try runProcess([
            agentBinary(), "approve", "--repo", fixture.git.path, "--pipeline", "shop", "--stage", "prod", "--candidate",
            candidate, "--approver", "alice@acme.test", "--key", "\(keys)/alice",
        ])
        #expect(approve.status == 0, "\(approve.stderr)")
        func validate() throws -> String {
            let result = try runAgent("validate", "--config", fixture.configPath, fixture.git.path)
            return "exit \(result.status)\n\(result.stdout)\(result.stderr)"
        }
        let clean = try validate()
        #expect(clean.hasPrefix("exit 0"), "\(clean)")
        // Mallory copies alice's file as carol's and signs it with bob's key.
        let forged = "\(fixture.git.path)/approvals/shop/prod/forged.yaml"
        let original = "\(fixture.git.path)/approvals/shop/prod/\(candidate.prefix(12))-alice-acme.test.yaml"
        let text = try String(contentsOfFile: original, encoding: .utf8)
        try text.replacingOccurrences(of: "approver: alice@acme.test", with: "approver: carol@acme.test")
            .write(toFile: forged, atomically: true, encoding: .utf8)
        try sh("ssh-keygen", "-q", "-Y", "sign", "-f", "\(keys)/bob", "-n", "pipeline-agent", forged)
        try text.write(toFile: "\(fixture.git.path)/approvals/shop/prod/unsigned.yaml", atomically: true, encoding: .utf8)
        let report = try validate()
        #expect(report.hasPrefix("exit 1"), "\(report)")
        #expect(
            report.contains("forged.yaml:2:1: error: the signature does not count: signed by bob@acme.test's key"),
            "\(report)")
        #expect(report.contains("unsigned.yaml:2:1: error: no signature next to it"), "\(report)")
        #expect(!report.contains("alice-acme.test.yaml:"), "the honest file passes: \(report)")
    }
}
