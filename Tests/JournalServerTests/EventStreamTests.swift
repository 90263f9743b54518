import Foundation
import Journal
import JournalServer
import JournalStore
import Testing

/// The live events feed under concurrent appends: every reader sees every position exactly once, in order.
@Suite struct EventStreamTests {
    /// Reads the stream from `after` until `last`, reconnecting with Last-Event-ID after `reconnectEvery` events.
    static func read(port: Int, token: String, after: Int64, until last: Int64, reconnectEvery: Int? = nil) throws -> [Int64] {
        var seen: [Int64] = []
        var resumeFrom = after
        while seen.last ?? after < last {
            let client = try HTTPTestClient(port: port)
            try client.write(method: "GET", path: "/v1/events/stream", headers: ["Authorization": "Bearer \(token)", "Last-Event-ID": "\(resumeFrom)"], body: nil)
            let (status, headers) = try client.readHead()
            guard status == 200, headers["content-type"] == "text/event-stream" else { throw HTTPTestError("stream answered \(status)") }
            var inThisConnection = 0
            while let event = try client.readEvent() {
                guard let id = event.id.flatMap(Int64.init) else { throw HTTPTestError("an event without an id") }
                let data = try JSONParser.parse(Array(event.data.utf8))
                guard data["position"] == .number(JSONNumber(id)) else { throw HTTPTestError("id \(id) does not match the event's position") }
                seen.append(id)
                resumeFrom = id
                inThisConnection += 1
                if id >= last { break }
                if let reconnectEvery, inThisConnection == reconnectEvery { break }
            }
        }
        return seen
    }

    @Test func readersNeverSkipOrRepeatWhileOthersAppend() async throws {
        // One token for all readers, one of which reconnects often: its closed streams may not all have
        // given their places back when it reconnects (ServerLimitsTests covers the cap itself).
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        settings.maxStreamsPerToken = 32
        let server = try await LiveServer.start(settings: settings)
        defer { Task { try await server.stop() } }
        let start = try server.store.head()
        let appenders = 4, perAppender = 25
        let last = start + Int64(appenders * perAppender)
        let port = server.port, token = try #require(server.tokens[.analyst])

        try await withThrowingTaskGroup(of: [Int64].self) { group in
            // Readers: two from the beginning, one from the middle that reconnects every 7 events.
            for (after, reconnect) in [(0, nil), (0, nil), (start / 2, 7)] as [(Int64, Int?)] {
                group.addTask { try await offloadTest { try Self.read(port: port, token: token, after: after, until: last, reconnectEvery: reconnect) } }
            }
            // Appenders: each its own customer, one event per request, all at once.
            for appender in 0..<appenders {
                group.addTask {
                    for index in 0..<perAppender {
                        let eventId = String(format: "0194c1b5-20bb-7275-8a1c-%012d", appender * 1_000 + index)
                        let response = try await server.request(
                            "POST", "/v1/customers/C-10000\(appender + 1)/events", role: .ingest, body: ServerTests.callBody(eventId: eventId))
                        guard response.status == 201 else { throw HTTPTestError("append answered \(response.status): \(response.text)") }
                    }
                    return []
                }
            }
            var readers: [[Int64]] = []
            for try await seen in group where !seen.isEmpty { readers.append(seen) }
            #expect(readers.count == 3)
            for seen in readers {
                let first = try #require(seen.first)
                #expect(seen == Array(first...last), "a reader skipped or repeated an event")
                #expect(first == 1 || first == start / 2 + 1)
            }
        }
        #expect(try server.store.head() == last)
    }

    @Test func aBadLastEventIdIsRefused() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let response = try await server.request("GET", "/v1/events/stream", role: .analyst, headers: ["Last-Event-ID": "yesterday"])
        #expect(response.status == 400)
        #expect(response.text.contains("Last-Event-ID"))
    }
}
