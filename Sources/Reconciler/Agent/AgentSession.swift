import Foundation
import GitSource
import Logging
import SpecModel

/// The agent's working set for one process: config, store, mirror and caches.
/// Not thread-safe; one task drives it.
public final class AgentSession {
    public let config: AgentConfig
    /// The state store; only the loop's `Recorder` writes to it.
    let stateStore: any StateStore
    /// The agent's state, for reading.
    public var store: any StateReader { stateStore }
    public let mirror: GitMirror
    let logger: Logger
    let clock: @Sendable () -> Date
    let specReader: SpecReader
    let scanner: CandidateScanner
    /// Derived data kept across restarts (the commit index, parsed specs): `cache.sqlite`.
    let cache: CacheAccess
    let approvalCollector: ApprovalCollector
    let observer: DriftObserver
    /// Whether a stage's commands must not run now: it is promoting, or its step user runs another promotion
    /// (set by the loop; the end of a command kills every process of its user).
    var stageBusy: @Sendable (StageKey) -> Bool = { _ in false }
    private var cachedApprovals: (head: ObjectID, approvals: [CheckedApproval], history: [Candidate], generation: Int)?
    var repository: GitRepository?
    /// Each pipeline's last valid spec: read from the store once, then kept as the passes record them.
    private var lastValid: [String: ValidSpec]?
    /// The last inputs, reused while no branch tip moved: no tree listing, walk or spec parse.
    private var cachedInputs: (tips: [String: ObjectID], value: PipelineInputs)?

    /// When true (`plan`), nothing is written to the state store (nor the cache).
    public var readOnly = false {
        didSet { cache.persists = !readOnly }
    }

    /// The branch whose head holds the specs.
    public var branch: String { config.source.branch ?? "main" }

    /// Starts every process of the agent (the executor's, checks, observe, ssh-keygen).
    public let runner: any CommandRunner

    public init(
        config: AgentConfig, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() },
        runner: any CommandRunner = SystemCommandRunner(), store: (any StateStore)? = nil
    ) throws {
        self.config = config
        self.runner = runner
        self.logger = logger
        self.clock = clock
        floor = ProtectFloor(config.protect ?? [])
        stateStore = try store ?? StateStores.open(config)
        mirror = try GitMirror.prepare(
            url: Self.remoteURL(config), at: "\(config.stateDirectory)/mirror.git", options: Self.remoteOptions(config))
        cache = CacheAccess(directory: config.stateDirectory, logger: logger)
        specReader = SpecReader(logger: logger, persistent: cache)
        scanner = CandidateScanner(branch: config.source.branch ?? "main", cache: cache, logger: logger)
        isolation = StepIsolation.resolve(config.execution)
        checkouts = CheckoutArea(root: config.workDirectory)
        observer = DriftObserver(
            checkouts: checkouts, environment: StepEnvironment(config: config), isolation: isolation, runner: runner)
        approvalCollector = ApprovalCollector(
            allowedSigners: config.trust.map { config.resolve($0.allowedSigners) },
            workDirectory: "\(config.stateDirectory)/tmp", scanner: scanner, runner: runner)
    }

    /// The agent config's `protect` rules.
    public let floor: ProtectFloor
    /// Which OS user each stage's processes run as, and what could not be isolated.
    public let isolation: StepIsolation
    /// Where candidates are checked out.
    public let checkouts: CheckoutArea

    /// The approval rules over the approval files at the branch head, checked (and cached) by blob,
    /// each with the stage's spec as it was when the file was added.
    func approvals(now: Date) throws -> SignedApprovals {
        let repository = try openRepository()
        let head = try repository.resolveBranch(branch)
        if let cachedApprovals, cachedApprovals.head == head {
            return SignedApprovals(
                approvals: cachedApprovals.approvals, now: now, floor: floor, history: cachedApprovals.history,
                historyGeneration: cachedApprovals.generation)
        }
        let checked = try approvalCollector.collect(at: head, in: repository)
        let bound = try ApprovedSpecReader(logger: logger).attach(to: checked, in: repository)
        let history = try scanner.history(head: head, in: repository)
        cachedApprovals = (head, bound, history, scanner.historyGeneration)
        return SignedApprovals(
            approvals: bound, now: now, floor: floor, history: history, historyGeneration: scanner.historyGeneration)
    }

    static func remoteURL(_ config: AgentConfig) -> String {
        let url = config.source.url
        return url.contains("://") || url.hasPrefix("git@") ? url : config.resolve(url)
    }

    static func remoteOptions(_ config: AgentConfig) -> RemoteOptions {
        if let token = config.source.tokenEnv {
            return RemoteOptions(credentials: .token(environmentVariable: token, username: nil))
        }
        if let key = config.source.sshKey {
            return RemoteOptions(
                credentials: .sshKey(
                    privateKey: config.resolve(key), publicKey: nil, passphraseEnvironmentVariable: nil, username: nil))
        }
        return RemoteOptions()
    }

    /// Fetches when the watched branch moved (or at once, without listing the refs first, when a push
    /// webhook said so); returns the tips before and after.
    @discardableResult
    public func sync(fetchAtOnce: Bool = false) throws -> FetchResult {
        let result = try fetchAtOnce ? mirror.fetch(branch: branch) : mirror.fetchIfChanged(branch: branch)
        if result.changed || repository == nil { repository = try mirror.open() }
        return result
    }

    /// Whether the mirror holds the watched branch from an earlier fetch (a source failing now is an outage,
    /// not a misconfiguration: the last good state stays in force).
    public var hasLastGoodState: Bool {
        (try? openRepository().branchTips()[branch]) != nil
    }

    /// Lists the source's refs and checks that the watched branch is there (nothing is fetched).
    public func checkSource() throws {
        let refs = try mirror.listRemoteRefs()
        guard refs.contains(where: { $0.name == "refs/heads/\(branch)" }) else {
            throw GitError(.unknownBranch, operation: "watch \(mirror.url)", message: "the remote has no branch '\(branch)'")
        }
    }

    func openRepository() throws -> GitRepository {
        if let repository { return repository }
        let opened = try mirror.open()
        repository = opened
        return opened
    }

    /// The specs at the branch head and the pipelines as the planner sees them.
    public func pipelineInputs() throws -> PipelineInputs {
        let repository = try openRepository()
        let tips = try repository.branchTips()
        if let cachedInputs, cachedInputs.tips == tips { return cachedInputs.value }
        let value = try computeInputs(repository)
        cachedInputs = (tips, value)
        return value
    }

    private func computeInputs(_ repository: GitRepository) throws -> PipelineInputs {
        let head = try repository.resolveBranch(branch)
        let read = try specReader.catalog(at: head, in: repository)
        var valid = try lastValid ?? store.validSpecs()
        var newlyValid: [ValidSpec] = []
        let catalog = read.adding(
            Self.branchErrors(read, watched: branch) + Self.floorEscapes(read, valid: valid, floor: floor))
        let brokenFiles = Set(catalog.diagnostics.filter { $0.severity == .error && !Self.isApprovalPath($0.file) }.map(\.file))
        for document in catalog.pipelines where !brokenFiles.contains(document.file) {
            let spec = ValidSpec(pipeline: document.pipeline, file: document.file, commit: head.hex)
            if valid[document.pipeline.name]?.pipeline != spec.pipeline {
                newlyValid.append(spec)
                valid[document.pipeline.name] = spec
            }
        }
        lastValid = valid
        let current = Set(catalog.pipelines.map(\.pipeline.name))
        var inputs: [PipelineInput] = []
        // Candidates come only from the watched branch, whatever a spec names; its head is read once a pass.
        let watchedHead = try branchHead(branch, repository: repository)
        for (name, spec) in valid where current.contains(name) || brokenFiles.contains(spec.file) {
            let diagnostics = catalog.diagnostics.filter { $0.file == spec.file && $0.severity == .error }
            let candidates = try watchedHead.map {
                try scanner.candidates(spec.pipeline.spec.source, head: $0, in: repository)
            }
            inputs.append(
                PipelineInput(name: name, pipeline: spec.pipeline, candidates: candidates ?? [], diagnostics: diagnostics))
        }
        let inForce = inputs.compactMap { valid[$0.name]?.file }
        inputs += Self.neverValid(catalog, brokenFiles: brokenFiles.subtracting(inForce), known: Set(inputs.map(\.name)))
        return PipelineInputs(
            inputs: inputs.sorted { $0.name < $1.name }, catalog: catalog, head: head, newlyValid: readOnly ? [] : newlyValid)
    }

    /// Pipelines in broken files that never had a valid spec: shown as Invalid, named by their
    /// `metadata.name`, or by the file when even that cannot be read.
    static func neverValid(_ catalog: SpecCatalog, brokenFiles: Set<String>, known: Set<String>) -> [PipelineInput] {
        var found: [String: String] = [:]
        for document in catalog.pipelines where brokenFiles.contains(document.file) {
            found[document.pipeline.name] = document.file
        }
        for named in catalog.undecodedPipelines { found[named.name] = named.file }
        let named = Set(found.values)
        for file in brokenFiles where !named.contains(file) { found[file] = file }
        return found.filter { !known.contains($0.key) }.map { name, file in
            let diagnostics = catalog.diagnostics.filter { $0.file == file && $0.severity == .error }
            return PipelineInput(name: name, pipeline: nil, candidates: [], diagnostics: diagnostics)
        }
    }

    /// A floor rule that protected a stage of the last valid spec must still protect one: renaming `prod`
    /// to `production` would otherwise leave the floor behind. The operator moves the floor, not a committer.
    static func floorEscapes(_ catalog: SpecCatalog, valid: [String: ValidSpec], floor: ProtectFloor) -> [Diagnostic] {
        guard !floor.rules.isEmpty else { return [] }
        return catalog.pipelines.flatMap { document -> [Diagnostic] in
            let name = document.pipeline.name
            guard let last = valid[name]?.pipeline else { return [] }
            /// Each rule index with the first stage it covers.
            func covering(_ stages: [Stage]) -> [Int: String] {
                var found: [Int: String] = [:]
                for stage in stages {
                    for (index, _) in floor.rules(pipeline: name, stage: stage.name) where found[index] == nil {
                        found[index] = stage.name
                    }
                }
                return found
            }
            let now = covering(document.pipeline.spec.stages)
            return covering(last.spec.stages).filter { now[$0.key] == nil }.sorted { $0.key < $1.key }.map { index, stage in
                Diagnostic(
                    .error, file: document.file, at: document.locations["spec.stages"] ?? document.location,
                    "protect[\(index)] covered stage '\(stage)' of \(name) and covers no stage of this spec; the agent "
                        + "keeps the last valid spec until the agent config's floor names the new stage (a rename cannot drop the floor)"
                )
            }
        }
    }

    /// A spec naming another branch than the one this agent watches would have unreviewed pushes to that
    /// branch deployed: it is invalid here (the agent keeps the pipeline's last valid spec).
    static func branchErrors(_ catalog: SpecCatalog, watched: String) -> [Diagnostic] {
        catalog.pipelines.filter { $0.pipeline.spec.source.branch != watched }.map { document in
            let branch = document.pipeline.spec.source.branch
            return Diagnostic(
                .error, file: document.file, at: document.locations["spec.source.branch"] ?? document.location,
                "source.branch '\(branch)' is not the branch this agent watches ('\(watched)'); candidates come only "
                    + "from \(watched): set source.branch: \(watched), or run an agent that watches \(branch)")
        }
    }

    static func isApprovalPath(_ path: String) -> Bool {
        path.hasPrefix(ApprovalCollector.directory + "/")
    }

    private func branchHead(_ name: String, repository: GitRepository) throws -> ObjectID? {
        do {
            return try repository.resolveBranch(name)
        } catch let error as GitError where error.kind == .unknownBranch {
            return nil
        }
    }

    /// Gathers everything a pass decides on, with one clock reading: the same value for `plan` and `run`,
    /// drift observations included (observe commands are read-only by contract).
    public func gather() throws -> PassSnapshot {
        let now = clock()
        let gathered = try pipelineInputs()
        let (inputs, catalog, head) = (gathered.inputs, gathered.catalog, gathered.head)
        let (stages, promotions) = try store.stagesAndPromotions()
        let approvals = try approvals(now: now)
        var retries: [StageKey: [String: Date]] = [:]
        for retry in try store.retries() { retries[retry.key, default: [:]][retry.candidate] = retry.requestedAt }
        let observed = observer.observe(inputs, stages: stages, repository: try openRepository(), skip: stageBusy)
        var input = PlanInput(
            pipelines: inputs, stages: stages, promotions: promotions, approvals: approvals, now: now, observed: observed,
            floor: floor)
        input.retries = retries
        return PassSnapshot(
            input: input,
            approvals: approvals, catalog: catalog, head: head, newlyValid: gathered.newlyValid)
    }

    /// Computes the plan from the store and the mirror as they are now.
    public func plan() throws -> Plan {
        Planner.plan(try gather().input)
    }
}

/// One pass's inputs, gathered once (all I/O done): what the pure planner and the recorder work on.
public struct PassSnapshot: Sendable {
    public let input: PlanInput
    /// The approval rules as judged at `input.now`, for the verdicts the pass records.
    public let approvals: SignedApprovals
    public let catalog: SpecCatalog
    public let head: ObjectID
    /// Specs that became valid at this head (the recorder stores them; `plan` never does).
    public let newlyValid: [ValidSpec]
}

/// The specs at the branch head and the pipelines as the planner sees them.
public struct PipelineInputs: Sendable {
    public let inputs: [PipelineInput]
    public let catalog: SpecCatalog
    public let head: ObjectID
    /// Specs valid at the head that the store does not hold yet.
    public let newlyValid: [ValidSpec]
}
