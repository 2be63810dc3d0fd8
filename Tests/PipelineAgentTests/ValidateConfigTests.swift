import Foundation
import TestSupport
import Testing

@Suite("pipeline-agent validate --config: the agent config against the specs")
struct ValidateConfigTests {
    /// A repository with the reference pipeline, one ssh key for alice, and an allowed_signers file.
    static func world() throws -> Scratch {
        let scratch = try Scratch()
        let reference = try String(contentsOfFile: "\(repositoryRoot)/pipelines/olist-analytics.yaml", encoding: .utf8)
        try scratch.write("repo/pipelines/olist-analytics.yaml", reference)
        try sh("git", "init", "-q", scratch.sub("repo"))
        try sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", scratch.sub("alice"))
        let key = try String(contentsOfFile: scratch.sub("alice.pub"), encoding: .utf8).split(separator: " ").prefix(2)
        try scratch.write("allowed_signers", "alice@acme.test \(key.joined(separator: " "))\n")
        return scratch
    }

    static let goodConfig = """
        source: {url: ./repo, branch: main}
        state: {path: ./state}
        trust: {allowedSigners: ./allowed_signers}
        notifications:
          analytics-dev: {type: webhook, url: "http://127.0.0.1:9/dev"}
          analytics-production: {type: slack, urlEnv: SLACK_URL}
          on-call: {type: pagerduty, routingKeyEnv: PD_KEY}
        secrets:
          DBT_PROD_PASSWORD: {env: DBT_PROD_PASSWORD, stages: [olist-analytics/prod]}
        protect:
          - {pipeline: "*", stage: prod, promotion: manual, minApprovals: 2, approvers: [alice@acme.test, bob@acme.test, carol@acme.test]}

        """

    @Test("a sound config: exit 0, with warnings only for approvers that have no key")
    func soundConfig() throws {
        let scratch = try Self.world()
        try scratch.write("agent.yaml", Self.goodConfig)
        let result = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("warning: protect[0]: bob@acme.test has no key in ./allowed_signers"))
        #expect(!result.stdout.contains("error:"), "\(result.stdout)")
        #expect(result.stderr.contains("agent config agent.yaml; 0 errors"))
    }

    @Test("unknown keys, missing files, a bad allowed_signers line, floors matching nothing, secrets for no stage")
    func brokenConfig() throws {
        let scratch = try Self.world()
        try scratch.write("agent.yaml", "source: {url: ./repo}\nstate: {path: ./state}\ntrust: {allowedSigner: ./x}\n")
        let unknown = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(unknown.status == 1)
        #expect(
            unknown.stdout.contains("agent.yaml:3:9: error: trust: unknown key 'allowedSigner'; did you mean 'allowedSigners'?"))

        try scratch.write("allowed_signers", "alice@acme.test ssh-ed25519\n")
        let config = Self.goodConfig
            .replacingOccurrences(of: "./repo", with: "./no-such-repo")
            .replacingOccurrences(of: "stage: prod,", with: "stage: prd,")
            .replacingOccurrences(of: "stages: [olist-analytics/prod]}", with: "}")
        try scratch.write("agent.yaml", config)
        let result = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func has(_ prefix: String, _ text: String) -> Bool { lines.contains { $0.hasPrefix(prefix) && $0.contains(text) } }
        #expect(has("agent.yaml:1:15: error:", "source.url: \(scratch.path)/no-such-repo is not a directory"), "\(lines)")
        #expect(has("agent.yaml:3:25: error:", "allowed_signers:1: not a signer line"), "\(lines)")
        #expect(has("agent.yaml:3:25: error:", "lists no signer, so no approval can count"), "\(lines)")
        #expect(has("agent.yaml:9:22: warning:", "secret DBT_PROD_PASSWORD has no stages, so no step sees it"), "\(lines)")
        #expect(has("agent.yaml:11:5: error:", "protect[0] (pipeline '*', stage 'prd') matches no stage, so it protects nothing"))

        // `ha` without a shared store means nothing: said, where it is.
        try scratch.write("agent.yaml", Self.goodConfig + "ha: {leaseTimeout: 10s}\n")
        let lonely = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(
            lonely.stdout.contains("agent.yaml:12:5: warning: ha: applies only to agents sharing state.postgres"),
            "\(lonely.stdout)")

        // The page open to the network without a read token: said; on loopback, or with the token, not.
        try scratch.write("agent.yaml", Self.goodConfig + "http: {listen: \"0.0.0.0:8080\"}\n")
        let exposed = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(
            exposed.stdout.contains(
                "agent.yaml:12:16: warning: http.listen 0.0.0.0:8080 is reachable beyond this host and http.readTokenEnv is not set"
            ),
            "\(exposed.stdout)")
        for http in [#"{listen: "127.0.0.1:8080"}"#, #"{listen: "0.0.0.0:8080", readTokenEnv: PA_READ_TOKEN}"#] {
            try scratch.write("agent.yaml", Self.goodConfig + "http: \(http)\n")
            let quiet = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
            #expect(!quiet.stdout.contains("http.listen"), "\(http): \(quiet.stdout)")
        }

        try scratch.write("agent.yaml", Self.goodConfig + "ha: {leaseTimeout: 10s}\n")
        try FileManager.default.removeItem(atPath: scratch.sub("allowed_signers"))
        let missing = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(missing.stdout.contains("error: trust.allowedSigners: cannot read \(scratch.path)/allowed_signers"))
    }

    @Test("a spec looser than the floor is valid, and validate says which rule tightened what, at the stage")
    func looserSpec() throws {
        let scratch = try Self.world()
        let spec = try String(contentsOfFile: scratch.sub("repo/pipelines/olist-analytics.yaml"), encoding: .utf8)
        let loose = spec.replacingOccurrences(of: "promotion: manual", with: "promotion: auto")
            .replacingOccurrences(of: "required: 2", with: "required: 0")
        try scratch.write("repo/pipelines/olist-analytics.yaml", loose)
        try scratch.write("agent.yaml", Self.goodConfig)
        let result = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(result.status == 0, "\(result.stdout)")
        let stageLine =
            try #require(
                loose.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("- name: prod") })
            + 1
        let at =
            "repo/pipelines/olist-analytics.yaml:\(stageLine):7: warning: olist-analytics/prod is looser than the agent's floor"
        #expect(
            result.stdout.contains("\(at) (agent.yaml): protect[0] tightens promotion: spec says auto, the agent uses manual"))
        #expect(
            result.stdout.contains("\(at) (agent.yaml): protect[0] tightens approvals.required: spec says 0, the agent uses 2"))

        let impossible = Self.goodConfig.replacingOccurrences(
            of: "approvers: [alice@acme.test, bob@acme.test, carol@acme.test]",
            with: "approvers: [alice@acme.test, dave@acme.test]")
        try scratch.write("agent.yaml", impossible)
        let never = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(never.status == 1)
        #expect(never.stdout.contains("olist-analytics/prod needs 2 approvals under the agent's floor, but only 1 principal is"))
    }

    @Test("secrets name pipeline/stage pairs: a bare stage is refused, an unprotected one warned about; isolation is reported")
    func secretGrantsAndIsolation() throws {
        let scratch = try Self.world()
        let bare = Self.goodConfig.replacingOccurrences(of: "stages: [olist-analytics/prod]", with: "stages: [prod]")
        try scratch.write("agent.yaml", bare)
        let refused = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(refused.status == 1)
        #expect(
            refused.stdout.contains("a bare stage name would also reach any new pipeline's stage of that name"),
            "\(refused.stdout)")

        let open = Self.goodConfig.replacingOccurrences(
            of: "stages: [olist-analytics/prod]", with: "stages: [\"*/dev\", olist-analytics/prod]")
        try scratch.write("agent.yaml", open + "execution: {stepUser: no-such-user-pa}\n")
        let warned = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(warned.status == 0, "\(warned.stdout)")
        #expect(
            warned.stdout.contains("secret DBT_PROD_PASSWORD reaches olist-analytics/dev, which no protect rule covers"),
            "\(warned.stdout)")
        #expect(!warned.stdout.contains("reaches olist-analytics/prod"))
        #expect(
            warned.stdout.contains("NOT ISOLATED") && warned.stdout.contains("user no-such-user-pa does not exist"),
            "\(warned.stdout)")

        try scratch.write("agent.yaml", Self.goodConfig + "execution: {stepUser: no-such-user-pa, requireIsolation: true}\n")
        let required = try runAgent("validate", "--config", "agent.yaml", "repo", in: scratch.path)
        #expect(required.status == 1 && required.stdout.contains("error: on this host, NOT ISOLATED"), "\(required.stdout)")
    }
}
