import Foundation
import Journal

struct HTTPTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A response as read off the socket.
struct HTTPTestResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as JSON (null when it is not JSON).
    var document: JSONValue { (try? JSONParser.parse(body)) ?? .null }
    /// `error.code` of an error body.
    var errorCode: String? { document["error"]?["code"]?.stringValue }
}

/// A minimal HTTP/1.1 client over POSIX sockets, so the tests talk to the server through the real
/// network stack: one request per connection (`Connection: close`), Content-Length and chunked bodies,
/// and a line reader for server-sent events. One task uses a client at a time.
final class HTTPTestClient: @unchecked Sendable {
    private let socket: Int32
    private var buffer: [UInt8] = []

    /// `receiveBuffer`: the socket's receive buffer in bytes (nil: the system's default).
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HTTPTestError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // A guard against a hang, not a measure of speed: on a loaded machine a lowered read can wait long.
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var receiveBuffer { setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size)) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Foundation.close(socket)
            throw HTTPTestError("cannot connect to 127.0.0.1:\(port)")
        }
    }

    private var isOpen = true

    deinit { close() }

    /// Closes the connection (as a client that goes away).
    func close() {
        guard isOpen else { return }
        isOpen = false
        Foundation.close(socket)
    }

    static func send(port: Int, method: String, path: String, headers: [String: String], body: [UInt8]?) throws -> HTTPTestResponse {
        let client = try HTTPTestClient(port: port)
        try client.write(method: method, path: path, headers: headers.merging(["Connection": "close"]) { a, _ in a }, body: body)
        return try client.readResponse(hasBody: method != "HEAD")
    }

    func write(method: String, path: String, headers: [String: String], body: [UInt8]?) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + (body ?? [])
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw HTTPTestError("send failed") }
            sent += n
        }
    }

    /// Bytes as they are, e.g. part of a request.
    func send(raw bytes: [UInt8]) throws {
        if let error = trySend(raw: bytes) { throw HTTPTestError("send failed: errno \(error)") }
    }

    /// Sends `bytes`; nil when they all went, else the error number (`EPIPE` or `ECONNRESET` once the
    /// server has closed the connection, `EAGAIN` when a send waited longer than the guard's timeout).
    func trySend(raw bytes: [UInt8]) -> Int32? {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return n == 0 ? EPIPE : errno }
            sent += n
        }
        return nil
    }

    /// Reads and drops whatever comes until the server closes the connection (true), or the read times
    /// out or fails (false).
    func closedByServer() -> Bool {
        while true {
            guard let more = try? receive() else { return false }
            if more.isEmpty { return true }
        }
    }

    /// Status line and headers.
    func readHead() throws -> (Int, [String: String]) {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw HTTPTestError("bad status line: \(statusLine)") }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers)
    }

    /// `hasBody: false` for the answer to HEAD, which has the headers of a GET's answer but no body.
    func readResponse(hasBody: Bool = true) throws -> HTTPTestResponse {
        let (status, headers) = try readHead()
        var body: [UInt8] = []
        if !hasBody {
            return HTTPTestResponse(status: status, headers: headers, body: [])
        } else if let length = headers["content-length"].flatMap(Int.init) {
            body = try read(count: length)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let size = try readLine()
                guard let count = Int(size.split(separator: ";")[0], radix: 16) else { throw HTTPTestError("bad chunk size \(size)") }
                if count == 0 {
                    _ = try readLine()
                    break
                }
                body += try read(count: count)
                _ = try readLine()
            }
        } else {
            while let more = try fill() { body += more }
            body = buffer + body
            buffer = []
        }
        return HTTPTestResponse(status: status, headers: headers, body: body)
    }

    /// The next server-sent event of a chunked `text/event-stream` body: its id and data.
    func readEvent() throws -> (id: String?, data: String)? {
        var id: String?, data: [String] = []
        while true {
            guard let line = try readStreamLine() else { return nil }
            if line.isEmpty {
                if !data.isEmpty { return (id, data.joined(separator: "\n")) }
                id = nil
                continue
            }
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
        }
    }

    /// Lines of a chunked body, chunk framing removed.
    private var streamText: [UInt8] = []
    private func readStreamLine() throws -> String? {
        while true {
            if let newline = streamText.firstIndex(of: 10) {
                let line = String(decoding: streamText[..<newline], as: UTF8.self)
                streamText.removeSubrange(...newline)
                return line
            }
            let size = try readLine()
            guard let count = Int(size.split(separator: ";").first ?? "", radix: 16) else { throw HTTPTestError("bad chunk size \(size)") }
            if count == 0 { return nil }
            streamText += try read(count: count)
            _ = try readLine()
        }
    }

    private func readLine() throws -> String {
        while true {
            if let index = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<index])
                buffer.removeSubrange(...index)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard let more = try fill() else { throw HTTPTestError("connection closed mid-line") }
            buffer += more
        }
    }

    private func read(count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard let more = try fill() else { throw HTTPTestError("connection closed mid-body") }
            buffer += more
        }
        let bytes = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    /// Bytes from the socket; nil at the end of the stream.
    private func fill() throws -> [UInt8]? {
        let bytes = try receive()
        return bytes.isEmpty ? nil : bytes
    }

    /// Bytes from the socket; empty at the end of the stream.
    private func receive() throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw HTTPTestError("recv failed or timed out (errno \(errno))") }
        return Array(chunk[..<n])
    }
}
