import ArgumentParser
import Foundation
import Logging
import Reconciler

/// `pipeline-agent plan`: fetch, compare desired with actual, print; change nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Fetch, compare desired with actual state, and print what would happen; changes nothing.",
        discussion: """
            The text form is meant for a PR comment; --output json is the stable document whose JSON Schema \
            `pipeline-agent schema --status` prints (fields in docs/operations.md, "The status document"). \
            Next to a running agent, plan does not fetch (the mirror is the agent's) and plans from its last fetch. \
            Exit status: 0; 1 when the source cannot be fetched; 2 for a usage error or an unreadable config.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let config = try options.load()
        // Observe commands run here too: the same protections as `run`.
        try AgentProcess.harden(stateDirectory: config.stateDirectory)
        let session = try AgentSession(config: config, logger: Logger(label: "pipeline-agent.plan"))
        session.readOnly = true
        // The mirror is the running agent's to fetch into: next to it, plan from its last fetch.
        if let lock = try? StateDirectoryLock(directory: config.stateDirectory) {
            try withExtendedLifetime(lock) { _ = try session.sync() }
        } else if let holder = StateDirectoryLock.holder(of: config.stateDirectory) {
            let note = "note: an agent runs on this state (\(holder)); planning from its last fetch\n"
            FileHandle.standardError.write(Data(note.utf8))
        }
        let plan = try session.plan()
        switch output {
        case .text: print(PlanText.render(plan, title: "Plan"), terminator: "")
        case .json: print(try plan.json())
        }
    }
}
