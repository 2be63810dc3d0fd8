import ArgumentParser
import Foundation
import Logging
import Reconciler

/// `pipeline-agent plan`: fetch, compare desired with actual, print; change nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Fetch, compare desired with actual state, and print what would happen; changes nothing.",
        discussion: "The text form is meant for a PR comment; --output json is the stable document of DESIGN.md §5."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let config = try options.load()
        let session = try AgentSession(config: config, logger: Logger(label: "pipeline-agent.plan"))
        session.readOnly = true
        try session.sync()
        let plan = try session.plan()
        switch output {
        case .text: print(PlanText.render(plan, title: "Plan"), terminator: "")
        case .json: print(try plan.json())
        }
    }
}
