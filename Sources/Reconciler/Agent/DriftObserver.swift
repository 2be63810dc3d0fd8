import Foundation
import GitSource
import SpecModel

/// Runs each deployed stage's `observe` command and reports what it says is really deployed.
struct DriftObserver {
    let checkouts: CheckoutArea
    let environment: StepEnvironment
    let isolation: StepIsolation
    let runner: any CommandRunner

    /// Observed candidate ids by stage; stages without `observe`, or not deployed, are absent.
    /// A command that fails or prints nothing reports nothing (the stage is not called drifted on no evidence).
    /// Each command runs as the stage's step user in a fresh checkout of the deployed candidate.
    /// Stages `skip` names are left out this pass (their user is busy with a promotion).
    func observe(
        _ inputs: [PipelineInput], stages: [StageKey: StageRecord], repository: GitRepository,
        skip: (StageKey) -> Bool = { _ in false }
    ) -> [StageKey: String] {
        var observed: [StageKey: String] = [:]
        for input in inputs {
            guard let pipeline = input.pipeline else { continue }
            for stage in pipeline.spec.stages {
                let key = StageKey(pipeline.name, stage.name)
                guard let spec = stage.observe, let current = stages[key]?.current, !skip(key) else { continue }
                let action = PromotionAction(key: key, candidate: current, previous: current, pipeline: pipeline, stage: stage)
                let user = isolation.user(for: key)
                let id = checkouts.withCheckout(current, from: repository, owner: user, only: stage.checkout) {
                    checkout -> String? in
                    guard let checkout else { return nil }
                    let variables = environment.variables(for: action, promotionID: 0, checkout: checkout)
                    return run(spec, checkout: checkout, variables: variables, user: user)
                }
                if let id { observed[key] = id }
            }
        }
        return observed
    }

    private func run(_ spec: ObserveSpec, checkout: String, variables: [String: String], user: StepUser?) -> String? {
        let directory = spec.workdir.map { "\(checkout)/\($0)" } ?? checkout
        let result = runner.capture(
            spec.run, directory: FileManager.default.fileExists(atPath: directory) ? directory : checkout,
            environment: variables, timeout: .milliseconds(spec.timeout?.milliseconds ?? 60_000), limit: 4096, user: user,
            redactor: environment.redactor)
        let last = result.output.split(separator: "\n").last?.trimmingCharacters(in: .whitespaces) ?? ""
        return result.succeeded && !last.isEmpty ? last : nil
    }
}
