import ArgumentParser
import Foundation
import Logging
import Reconciler
import ServiceLifecycle

/// `pipeline-agent run`: the agent. With `--once`: one fetch, reconcile until quiescent, exit.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: fetch, plan and promote; with --once, stop when nothing can progress without waiting.",
        discussion: """
            Exit status with --once: 0 when every promotion succeeded (or none was due); 1 when one failed, when a \
            spec at the branch head is invalid (its errors are printed), or when another agent holds the state \
            directory (one agent per state.path: the holder's pid, host and start are printed). \
            Without --once the agent polls every source.pollInterval (default 60s, with jitter), serves HTTP on \
            http.listen (webhooks, /healthz, /readyz, /metrics, /api/v1/status) and runs until SIGTERM or SIGINT: \
            then no new step starts, a running step may finish within shutdownGrace (default 10s) before its \
            process group is killed, its promotion is recorded as interrupted, and agent.stopped written; exit 0.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "One fetch, reconcile until quiescent, then exit.")
    var once = false

    @Option(help: "Least severe service-log lines written: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Service-log format on standard error: text, or json (one object a line).")
    var logFormat: LogFormat = .text

    func run() async throws {
        LogSetup.bootstrap(level: logLevel, format: logFormat)
        let config = try options.load()
        let logger = Logger(label: "pipeline-agent")
        try StartupChecks.refuseMisconfiguration(config, serving: !once)
        try AgentProcess.harden(stateDirectory: config.stateDirectory)
        // Held until the process exits; the kernel releases it even on kill -9.
        let lock = try StateDirectoryLock(directory: config.stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        if let http = config.http { try HTTPServer.checkListenAddress(http.listen) }
        let runtime = AgentRuntime(
            pollInterval: config.source.pollInterval?.seconds ?? 60,
            shutdownGrace: .milliseconds(config.shutdownGrace?.milliseconds ?? 10_000))
        let session = try AgentSession(config: config, logger: logger)
        try session.isolation.enforce(config.execution?.requireIsolation == true)
        // In JSON, every line must be an object: the start-up summary carries the isolation then.
        if logFormat == .text { FileHandle.standardError.write(Data("isolation: \(session.isolation.summary)\n".utf8)) }
        try StartupChecks.refuseUnusableSource(session, logger: logger)
        StartupChecks.summary(config, session: session, once: once, logger: logger)
        let loop = try ReconcileLoop(session: session, cancellation: runtime.cancellation)
        if once { return try runOnce(loop) }
        var services: [any Service] = [ReconcilerService(loop: loop, session: session, runtime: runtime, logger: logger)]
        if let http = config.http {
            var verifier: WebhookVerifier?
            if let name = http.webhookSecretEnv {
                // StartupChecks refused an unset or empty secret already; an empty one must never verify anything.
                guard let configured = WebhookVerifier(secret: ProcessInfo.processInfo.environment[name] ?? "") else {
                    throw ValidationError("http.webhookSecretEnv names \(name), which is not set or empty")
                }
                verifier = configured
            }
            let token = http.readTokenEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
            // A connection of its own: a page reading the whole chain must not hold the writer's connection.
            let reading = HTTPServer.Reading(
                web: WebSources(store: try StateStores.reader(config), config: config, planned: { runtime.latestPlan }),
                access: ReadAccess(token: token))
            services.append(
                try HTTPServer.application(
                    listen: http.listen, runtime: runtime, reading: reading, verifier: verifier, logger: logger))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    private func runOnce(_ loop: ReconcileLoop) throws {
        try loop.start()
        let summary: RunSummary
        do {
            summary = try loop.runOnce()
        } catch {
            try? loop.stop(reason: "run --once failed: \(error)")
            throw error
        }
        for promotion in summary.promotions {
            print("\(promotion.key): \(promotion.candidate.prefix(12)) \(promotion.status.rawValue)")
        }
        loop.recorder.drainNotifications()
        // Opening the log verified only its tail; the older records were checked meanwhile.
        if let refusal = loop.recorder.awaitAuditCheck() { throw refusal }
        try loop.stop(reason: "run --once finished")
        for diagnostic in summary.invalidSpecs {
            FileHandle.standardError.write(Data("\(diagnostic.description)\n".utf8))
        }
        if !summary.invalidSpecs.isEmpty {
            let message = "the specs at the branch head are invalid; nothing new is promoted for them\n"
            FileHandle.standardError.write(Data(message.utf8))
        }
        if summary.anyFailed || !summary.invalidSpecs.isEmpty { throw ExitCode.failure }
    }
}

/// Exponential backoff with jitter for a failing source: 5 s, 10 s, 20 s … at most 5 minutes.
struct Backoff {
    private var failures = 0

    mutating func next() -> Double {
        failures += 1
        return min(300, 5 * pow(2, Double(failures - 1))) * Double.random(in: 0.8...1.2)
    }

    mutating func reset() { failures = 0 }
}
