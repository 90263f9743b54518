import Foundation
import Synchronization

/// A loop whose two halves run on two threads: the next items are made while the ones before are consumed.
enum Overlap {
    /// Consumes `first`, then each item `next` makes from the one before, in order, until `next`
    /// returns nil. `next` works up to `ahead` items ahead of `consume`: it does not wait for each item
    /// to be consumed before it makes the next, so a slow item on one side is made up for by the
    /// other. An error of `consume` stops both halves (once `next` returns) and is thrown; one of
    /// `next` is thrown once the items made before it are consumed. Returns the last item consumed.
    @discardableResult
    static func run<Item: Sendable>(
        first: Item?, ahead: Int = 2, next: @Sendable (Item) throws -> Item?, consume: @Sendable (Item) throws -> Void
    ) throws -> Item? {
        guard let first else { return nil }
        let queue = Queue<Item>(capacity: max(1, ahead))
        let outcome = Mutex<(consumed: Item?, error: (any Error)?)>((nil, nil))
        Lanes.run(2) { lane in
            if lane == 0 {
                var item: Item? = first
                while let current = item {
                    do {
                        try consume(current)
                    } catch {
                        queue.stop()
                        outcome.withLock { $0.error = error }
                        return
                    }
                    outcome.withLock { $0.consumed = current }
                    do {
                        item = try queue.take()
                    } catch {
                        outcome.withLock { $0.error = error }
                        return
                    }
                }
            } else {
                var item = first
                while true {
                    do {
                        guard let made = try next(item) else { return queue.finish(nil) }
                        guard queue.put(made) else { return }
                        item = made
                    } catch {
                        return queue.finish(error)
                    }
                }
            }
        }
        let (consumed, error) = outcome.withLock { ($0.consumed, $0.error) }
        if let error { throw error }
        return consumed
    }

    /// The items made and not yet consumed, at most `capacity`.
    private final class Queue<Item: Sendable>: @unchecked Sendable {
        private let condition = NSCondition()
        private let capacity: Int
        // Guarded by `condition`.
        private var items: [Item] = []
        private var finished = false
        private var failure: (any Error)?
        private var stopped = false

        init(capacity: Int) {
            self.capacity = capacity
        }

        /// Adds an item once there is room; false when the consumer stopped.
        func put(_ item: Item) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while items.count >= capacity && !stopped { condition.wait() }
            guard !stopped else { return false }
            items.append(item)
            condition.broadcast()
            return true
        }

        /// Tells the consumer that no item follows, because of `error` if there is one.
        func finish(_ error: (any Error)?) {
            condition.lock()
            defer { condition.unlock() }
            finished = true
            failure = error
            condition.broadcast()
        }

        /// Tells the producer to make nothing more.
        func stop() {
            condition.lock()
            defer { condition.unlock() }
            stopped = true
            condition.broadcast()
        }

        /// The next item, once there is one; nil after the last; the producer's error after the items
        /// made before it.
        func take() throws -> Item? {
            condition.lock()
            defer { condition.unlock() }
            while items.isEmpty && !finished { condition.wait() }
            if !items.isEmpty {
                condition.broadcast()
                return items.removeFirst()
            }
            if let failure { throw failure }
            return nil
        }
    }
}
