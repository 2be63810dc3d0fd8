import CGit2
import Foundation

/// State shared by a caller, the worker thread running a transfer, and libgit2's callbacks.
final class TransferContext: @unchecked Sendable {
    let credentials: GitCredentials
    private let lock = NSLock()
    private var lastProgress = ContinuousClock.now
    private var cancelled = false
    private var credentialAttempts = 0

    init(credentials: GitCredentials) {
        self.credentials = credentials
    }

    /// Records that data moved, pushing the stall deadline back.
    func touch() { lock.withLock { lastProgress = .now } }
    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }
    var idleTime: Duration { lock.withLock { ContinuousClock.now - lastProgress } }
    func nextCredentialAttempt() -> Int {
        lock.withLock {
            credentialAttempts += 1
            return credentialAttempts
        }
    }
}

/// Runs blocking libgit2 network calls on their own thread behind a stall watchdog.
/// libgit2 1.5 has no network timeouts: when a transfer stalls, the caller gets a
/// `.timeout` error at once and the worker is told to abort at its next callback.
enum RemoteTransfer {
    static func run<T: Sendable>(
        _ operation: String, options: RemoteOptions, _ body: @escaping @Sendable (TransferContext) throws -> T
    ) throws -> T {
        ensureLibgit2()
        let context = TransferContext(credentials: options.credentials)
        let outcome = Outcome<T>()
        let finished = DispatchSemaphore(value: 0)
        let worker = Thread {
            outcome.set(Result { try body(context) })
            finished.signal()
        }
        worker.stackSize = 8 << 20
        worker.start()
        while finished.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if context.idleTime >= options.stallTimeout {
                context.cancel()
                throw GitError(.timeout, operation: operation, message: "no progress for \(options.stallTimeout), aborted")
            }
        }
        return try outcome.get()
    }

    /// libgit2 callbacks that feed the watchdog and answer credential requests.
    static func callbacks(_ context: TransferContext) -> git_remote_callbacks {
        var callbacks = git_remote_callbacks()
        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.payload = Unmanaged.passUnretained(context).toOpaque()
        callbacks.transfer_progress = { _, payload in RemoteTransfer.progress(payload) }
        callbacks.sideband_progress = { _, _, payload in RemoteTransfer.progress(payload) }
        callbacks.credentials = { out, _, usernameFromURL, allowed, payload in
            guard let out, let payload else { return -1 }
            let context = Unmanaged<TransferContext>.fromOpaque(payload).takeUnretainedValue()
            let fromURL = usernameFromURL.map { String(cString: $0) }
            return RemoteTransfer.acquireCredential(out, context: context, usernameFromURL: fromURL, allowed: allowed)
        }
        return callbacks
    }

    static func progress(_ payload: UnsafeMutableRawPointer?) -> Int32 {
        guard let payload else { return 0 }
        let context = Unmanaged<TransferContext>.fromOpaque(payload).takeUnretainedValue()
        context.touch()
        return context.isCancelled ? -1 : 0
    }

    static func acquireCredential(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>, context: TransferContext,
        usernameFromURL: String?, allowed: UInt32
    ) -> Int32 {
        guard context.nextCredentialAttempt() == 1 else {
            git_error_set_str(
                Int32(GIT_ERROR_NET.rawValue), "authentication failed: the remote refused the configured credentials")
            return GIT_EAUTH.rawValue
        }
        switch context.credentials {
        case .none:
            git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication required but no credentials are configured")
            return GIT_EAUTH.rawValue
        case .token(let variable, let username):
            guard allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0,
                let token = ProcessInfo.processInfo.environment[variable], !token.isEmpty
            else {
                git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "token variable \(variable) is unset or empty")
                return GIT_EAUTH.rawValue
            }
            return git_credential_userpass_plaintext_new(out, username ?? usernameFromURL ?? "x-access-token", token)
        case .sshKey(let privateKey, let publicKey, let passphraseVariable, let username):
            let passphrase = passphraseVariable.flatMap { ProcessInfo.processInfo.environment[$0] }
            return git_credential_ssh_key_new(out, username ?? usernameFromURL ?? "git", publicKey, privateKey, passphrase)
        }
    }
}

/// The result of a worker thread, handed to the waiting caller.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, Error>?

    func set(_ result: Result<T, Error>) { lock.withLock { self.result = result } }

    func get() throws -> T {
        guard let result = lock.withLock({ self.result }) else {
            throw GitError(.other, operation: "transfer", message: "worker finished without a result")
        }
        return try result.get()
    }
}
