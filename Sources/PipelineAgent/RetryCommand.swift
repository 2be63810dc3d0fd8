import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent retry`: ask the agent to promote a failed candidate again.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Ask the agent to promote a failed candidate to a stage again (every gate still applies).",
        discussion: """
            A candidate that failed on a stage is not promoted there again until a new candidate or a spec \
            change; this lifts that for one candidate. The request goes to <state>/requests (run this as the \
            agent's user or root); the agent records it at its next pass as promotion.retryRequested with \
            --by as the actor, then plans the stage as if the earlier failures had not happened: upstream \
            verification, soak, approvals, windows and freeze all still apply. `run --once` acts at once; a \
            running service at its next poll. Refused (exit 1) when the candidate's last promotion to the \
            stage did not fail.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: "The stage.") var stage: String
    @Option(help: "The candidate (full commit id); default: the one that failed last on the stage.") var candidate: String?
    @Option(help: "Who asks (recorded as the actor); default: $SUDO_USER, else $USER.")
    var by: String = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "operator"
    @Option(help: "Why (recorded).") var reason: String

    func run() throws {
        let config = try options.load()
        let store = try StateStores.reader(config)
        var request = RetryRequest(
            pipeline: pipeline, stage: stage, candidate: candidate, by: by, reason: reason, at: Date())
        do {
            request.candidate = try RetryRequests.candidate(for: request, in: store)
            let file = try RetryRequests.submit(request, stateDirectory: config.stateDirectory)
            print(
                "asked to retry \(request.candidate?.prefix(12) ?? "") on \(pipeline)/\(stage) (\(file)); "
                    + "the agent records it at its next pass")
        } catch let refusal as RetryRefusal {
            FileHandle.standardError.write(Data("error: \(refusal.description)\n".utf8))
            throw ExitCode.failure
        }
    }
}
