import Hummingbird
import Synchronization

/// The live event streams open: at most `perToken` for one token and `limit` in all.
///
/// A stream holds its place for as long as its ``StreamSlot`` lives: the response body keeps it, so
/// the place is given back however the stream ends.
final class StreamSlots: Sendable {
    let limit: Int
    let perToken: Int
    private let open = Mutex((total: 0, byToken: [String: Int]()))

    init(limit: Int, perToken: Int) {
        precondition(limit > 0 && perToken > 0, "stream limits need at least one stream")
        self.limit = limit
        self.perToken = perToken
    }

    /// Streams open in all.
    var total: Int { open.withLock { $0.total } }

    /// A place for a stream of `tokenId`: 429 when the token has `perToken` open, 503 when the server has `limit`.
    func take(for tokenId: String) throws -> StreamSlot {
        let refusal = open.withLock { open -> APIError? in
            if open.byToken[tokenId, default: 0] >= perToken {
                return APIError(.tooManyRequests, "too_many_streams", "this token has \(perToken) streams open already; close one before opening another")
            }
            if open.total >= limit {
                return APIError(.serviceUnavailable, "too_many_streams", "the server has \(limit) streams open; retry shortly")
            }
            open.total += 1
            open.byToken[tokenId, default: 0] += 1
            return nil
        }
        if var refusal {
            refusal.headers[.retryAfter] = "5"
            throw refusal
        }
        return StreamSlot(slots: self, tokenId: tokenId)
    }

    fileprivate func giveBack(_ tokenId: String) {
        open.withLock { open in
            open.total -= 1
            open.byToken[tokenId, default: 1] -= 1
            if open.byToken[tokenId] == 0 { open.byToken[tokenId] = nil }
        }
    }
}

/// One stream's place in ``StreamSlots``, given back when it is released.
final class StreamSlot: Sendable {
    private let slots: StreamSlots
    let tokenId: String

    fileprivate init(slots: StreamSlots, tokenId: String) {
        self.slots = slots
        self.tokenId = tokenId
    }

    deinit { slots.giveBack(tokenId) }
}
