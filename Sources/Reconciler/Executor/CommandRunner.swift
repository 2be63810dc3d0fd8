import Foundation

/// One command to run, as the runner needs it.
public struct CommandRequest: Sendable {
    public var command: String
    public var directory: String
    public var environment: [String: String]
    /// Where stdout and stderr go (one file).
    public var logPath: String
    public var timeout: Duration
    public var captureLimit: Int
    public var cancellation: CancellationFlag?
    /// Where the process group id is kept while it runs, for a restarted agent to clean up.
    public var groupFile: String?
    /// The OS user it runs as; nil: the agent's own.
    public var user: StepUser?
    /// Secrets removed from the output before it reaches the log file.
    public var redactor: SecretRedactor = .none

    public init(
        _ command: String, directory: String, environment: [String: String], logPath: String, timeout: Duration,
        captureLimit: Int, cancellation: CancellationFlag? = nil, groupFile: String? = nil, user: StepUser? = nil,
        redactor: SecretRedactor = .none
    ) {
        self.user = user
        self.redactor = redactor
        self.command = command
        self.directory = directory
        self.environment = environment
        self.logPath = logPath
        self.timeout = timeout
        self.captureLimit = captureLimit
        self.cancellation = cancellation
        self.groupFile = groupFile
    }
}

/// Starts every process the agent starts: steps, checks, observe and health commands, ssh-keygen.
/// Injected, so the loop, the executor and the health monitor are tested with a fake and a clock.
public protocol CommandRunner: Sendable {
    /// Runs `request` to its end (exit, timeout, cancellation) and says how it ended.
    func run(_ request: CommandRequest) -> ProcessOutcome
    /// Runs `request`, calling `whenStarted` once on the calling thread as soon as the process was started (or
    /// could not be): what the caller does there overlaps the process's run.
    func run(_ request: CommandRequest, whenStarted: () -> Void) -> ProcessOutcome
}

extension CommandRunner {
    public func run(_ request: CommandRequest, whenStarted: () -> Void) -> ProcessOutcome {
        whenStarted()
        return run(request)
    }
}

/// Real processes: `/bin/sh -c` in a process group (`ProcessRunner`).
public struct SystemCommandRunner: CommandRunner {
    public init() {}

    public func run(_ request: CommandRequest) -> ProcessOutcome {
        run(request, whenStarted: {})
    }

    public func run(_ request: CommandRequest, whenStarted: () -> Void) -> ProcessOutcome {
        ProcessRunner.run(
            request.command, directory: request.directory, environment: request.environment, logPath: request.logPath,
            timeout: request.timeout, captureLimit: request.captureLimit, cancellation: request.cancellation,
            groupFile: request.groupFile, user: request.user, redactor: request.redactor, whenStarted: whenStarted)
    }
}

extension CommandRunner {
    /// Runs a short command and returns whether it succeeded and what it printed (stdout and stderr).
    public func capture(
        _ command: String, directory: String, environment: [String: String], timeout: Duration = .seconds(60),
        limit: Int = 65_536, user: StepUser? = nil, redactor: SecretRedactor = .none
    ) -> (succeeded: Bool, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("pa-capture-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let outcome = run(
            CommandRequest(
                command, directory: directory, environment: environment, logPath: log, timeout: timeout, captureLimit: limit,
                user: user, redactor: redactor))
        return (outcome.succeeded, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
