import Foundation
import SpecModel
import Testing

@Suite("The protect floor and what an approval is bound to")
struct TrustPolicyTests {
    static func stage(_ yaml: String) throws -> Stage {
        let text = """
            apiVersion: pipeline-agent/v1
            kind: Pipeline
            metadata: {name: shop}
            spec:
              source: {branch: main}
              stages:
            \(yaml)
            """
        let catalog = SpecCatalog(files: [("pipelines/shop.yaml", Data(text.utf8))])
        return try #require(catalog.pipelines.first?.pipeline.spec.stages.first, "\(catalog.diagnostics)")
    }

    static let prod = """
            - name: prod
              promotion: manual
              approvals: {required: 2, approvers: [alice@acme.test, bob@acme.test, carol@acme.test]}
              steps: [{name: deploy, run: "dbt build --target prod"}]
        """

    @Test("globs match names as fnmatch does")
    func globs() {
        #expect(ProtectFloor.glob("*", matches: "prod"))
        #expect(ProtectFloor.glob("prod*", matches: "prod-eu"))
        #expect(!ProtectFloor.glob("prod*", matches: "preprod"))
        #expect(ProtectFloor.glob("p?od", matches: "prod"))
        #expect(ProtectFloor.glob("[ps]*", matches: "staging"))
        #expect(!ProtectFloor.glob("prod", matches: "Prod"))
    }

    @Test("several rules: manual wins, the largest count wins, only principals in every list count")
    func severalRules() throws {
        let spec = try Self.stage(
            "    - {name: prod, approvals: {required: 1, approvers: [alice@acme.test, bob@acme.test, dave@acme.test]}, steps: [{name: s, run: x}]}"
        )
        let floor = ProtectFloor([
            ProtectRule(pipeline: "*", stage: "prod", promotion: .manual, minApprovals: 2, approvers: nil),
            ProtectRule(
                pipeline: "sh*", stage: "pr*", promotion: nil, minApprovals: 3, approvers: ["Alice@acme.test", "bob@acme.test"]),
            ProtectRule(pipeline: "other", stage: "*", promotion: nil, minApprovals: 9, approvers: ["zed@acme.test"]),
        ])
        let result = floor.apply(pipeline: "shop", to: spec)
        #expect(result.stage.promotionMode == .manual)
        #expect(result.stage.approvals?.required == 3)
        #expect(result.stage.approvals?.approvers == ["alice@acme.test", "bob@acme.test"])
        #expect(result.tightenings.map(\.field) == ["promotion", "approvals.required", "approvals.approvers"])
        #expect(result.tightenings.map(\.rule) == ["protect[0]", "protect[1]", "protect[1]"])
        #expect(result.stage.requiredApprovals == 3)
    }

    @Test("a spec stricter than the floor is left alone; a stage no rule matches is untouched")
    func stricterSpec() throws {
        let spec = try Self.stage(Self.prod)
        let floor = ProtectFloor([
            ProtectRule(
                pipeline: "*", stage: "prod", promotion: .manual, minApprovals: 1,
                approvers: ["alice@acme.test", "bob@acme.test", "carol@acme.test", "dave@acme.test"])
        ])
        let result = floor.apply(pipeline: "shop", to: spec)
        #expect(result.stage == spec)
        #expect(result.tightenings.isEmpty)
        let elsewhere = ProtectFloor([
            ProtectRule(pipeline: "*", stage: "dev", promotion: .manual, minApprovals: 5, approvers: nil)
        ])
        #expect(elsewhere.apply(pipeline: "shop", to: spec).stage == spec)
    }

    @Test("a manual stage needs at least one approval, whatever `required` says")
    func manualNeedsOne() throws {
        #expect(try Self.stage("    - {name: prod, promotion: manual, steps: [{name: s, run: x}]}").requiredApprovals == 1)
        #expect(try Self.stage("    - {name: prod, steps: [{name: s, run: x}]}").requiredApprovals == 0)
    }

    @Test(
        "changing steps, verify, rollback, vars, approvals, windows, timeout or checkout breaks the binding; freeze and notify do not"
    )
    func binding() throws {
        let approved = try Self.stage(Self.prod)
        let changedSteps = try Self.stage(Self.prod.replacingOccurrences(of: "dbt build --target prod", with: "env"))
        #expect(StageBinding.changedFields(from: approved, to: changedSteps) == ["steps"])
        let difference = StageBinding.difference(from: approved, to: changedSteps)
        #expect(difference == ["steps:", "-   run: dbt build --target prod", "+   run: env"])

        let edits = [
            ("      steps:", "      verify: [{name: v, run: 'true'}]\n      steps:", "verify"),
            ("      steps:", "      rollback: [{name: r, run: 'true'}]\n      steps:", "rollback"),
            ("      steps:", "      vars: {LIMIT: '10'}\n      steps:", "vars"),
            ("required: 2", "required: 1", "approvals"),
            ("      steps:", "      windows: [{days: [mon], from: '09:00', to: '10:00'}]\n      steps:", "windows"),
            ("      steps:", "      timeout: 1h\n      steps:", "timeout"),
            ("      steps:", "      checkout: {paths: ['models/**']}\n      steps:", "checkout"),
        ]
        for (old, new, field) in edits {
            let changed = try Self.stage(Self.prod.replacingOccurrences(of: old, with: new))
            #expect(StageBinding.changedFields(from: approved, to: changed) == [field], "\(field)")
        }
        let unbound = try Self.stage(
            Self.prod.replacingOccurrences(of: "      steps:", with: "      freeze: true\n      notify: [x]\n      steps:"))
        #expect(StageBinding.changedFields(from: approved, to: unbound).isEmpty)
    }
}
