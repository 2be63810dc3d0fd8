import CCurl
import Foundation

/// The answer to one HTTP request.
public struct HTTPResponse: Sendable, Hashable {
    public let status: Int
    public let body: Data
}

/// Why a request got no HTTP answer.
public struct HTTPTransportError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public var description: String { "curl error \(code): \(message)" }
}

/// A thin, blocking libcurl client: one easy handle per request, no signals, bounded time.
public enum CurlClient {
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// GETs `url` (health checks); the whole exchange is bounded by `timeout`.
    public static func get(url: String, timeout: Duration) throws -> HTTPResponse {
        try perform(url: url, headers: [:], body: nil, timeout: timeout)
    }

    /// POSTs `body` with `headers` to `url`; the whole exchange is bounded by `timeout`.
    public static func post(url: String, headers: [String: String], body: Data, timeout: Duration) throws -> HTTPResponse {
        try perform(url: url, headers: headers, body: body, timeout: timeout)
    }

    private static func perform(url: String, headers: [String: String], body: Data?, timeout: Duration) throws -> HTTPResponse {
        _ = globalInit
        guard let handle = curl_easy_init() else { throw HTTPTransportError(code: -1, message: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { list = curl_slist_append(list, "\(name): \(value)") }
        defer { curl_slist_free_all(list) }
        let sink = ResponseSink()
        let milliseconds = Int(timeout.wholeMilliseconds)
        return try (body ?? Data()).withUnsafeBytes { bytes -> HTTPResponse in
            pa_curl_set_string(handle, CURLOPT_URL, url)
            pa_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
            if body != nil {
                pa_curl_set_long(handle, CURLOPT_POST, 1)
                pa_curl_set_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                pa_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
            }
            pa_curl_set_long(handle, CURLOPT_TIMEOUT_MS, milliseconds)
            pa_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(milliseconds, 5_000))
            pa_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0)
            pa_curl_set_headers(handle, list)
            pa_curl_set_write_function(handle) { data, size, count, user in
                guard let data, let user else { return 0 }
                Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue().data.append(
                    UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
                return size * count
            }
            pa_curl_set_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
            let code = curl_easy_perform(handle)
            guard code == CURLE_OK else {
                throw HTTPTransportError(code: Int32(code.rawValue), message: String(cString: curl_easy_strerror(code)))
            }
            var status = 0
            pa_curl_response_code(handle, &status)
            return withExtendedLifetime(sink) { HTTPResponse(status: status, body: sink.data) }
        }
    }

    private final class ResponseSink {
        var data = Data()
    }
}
