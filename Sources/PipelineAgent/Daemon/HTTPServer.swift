import Foundation
import Hummingbird
import Logging
import Reconciler

/// The agent's HTTP surface: webhooks, probes, metrics and status.
enum HTTPServer {
    /// Webhook bodies larger than this are refused with 413 (push payloads are far smaller).
    static let maxWebhookBytes = 1 << 20

    static func application(
        listen: String, runtime: AgentRuntime, store: any StateStore, verifier: WebhookVerifier?, logger: Logger
    ) throws -> some ApplicationProtocol {
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw HTTPConfigError(listen: listen) }
        let router = Router()
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let storeProblem: String? = (try? store.stages()) == nil ? "state store unavailable" : nil
            guard let problem = storeProblem ?? runtime.readiness() else { return text(.ok, "ready\n") }
            return text(.serviceUnavailable, "not ready: \(problem)\n")
        }
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: runtime.metrics.registry.emitToBuffer())))
        }
        router.get("api/v1/status") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: try StatusReport.current(store).json())))
        }
        router.post("hooks/git") { request, _ -> Response in
            try await webhook(request, runtime: runtime, verifier: verifier, logger: logger)
        }
        return Application(
            router: router, configuration: .init(address: .hostname(String(parts[0]), port: port), serverName: "pipeline-agent"),
            logger: logger)
    }

    private static func webhook(
        _ request: Request, runtime: AgentRuntime, verifier: WebhookVerifier?, logger: Logger
    ) async throws
        -> Response
    {
        guard let verifier else { return text(.notFound, "webhooks are not configured (http.webhookSecretEnv)\n") }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxWebhookBytes {
            return text(.contentTooLarge, "body over \(maxWebhookBytes) bytes\n")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxWebhookBytes)
        } catch {
            return text(.contentTooLarge, "body over \(maxWebhookBytes) bytes\n")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        switch verifier.verify(headers: headers, body: Data(buffer: body)) {
        case .accepted(let source):
            logger.info("webhook accepted", metadata: ["source": "\(source)"])
            runtime.wakeUp()
            return text(.accepted, "accepted\n")
        case .rejected(let reason):
            logger.warning("webhook rejected", metadata: ["reason": "\(reason)"])
            return text(.unauthorized, "\(reason)\n")
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// `http.listen` is not host:port.
struct HTTPConfigError: Error, CustomStringConvertible {
    let listen: String
    var description: String { "http.listen '\(listen)' must be host:port, e.g. 127.0.0.1:8080" }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.getData(at: buffer.readerIndex, length: buffer.readableBytes) ?? Data()
    }
}
