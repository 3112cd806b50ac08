import Dispatch
import QGAClient
import Testing

/// The fan-out engine in process: results in the targets' order whatever order they finish
/// in, the bound on how many run at once per lane, and the exit-status rule. Threads wait
/// on each other through semaphores, never on time.
@Suite struct FanOutTests {
    /// Counts the items running at once, per lane, and the most seen.
    final class Gauge: @unchecked Sendable {
        private let lock = DispatchSemaphore(value: 1)
        private var running: [Int: Int] = [:]
        private(set) var peak: [Int: Int] = [:]
        func enter(_ lane: Int) -> Int {
            lock.wait()
            defer { lock.signal() }
            running[lane, default: 0] += 1
            peak[lane] = max(peak[lane] ?? 0, running[lane] ?? 0)
            return running[lane] ?? 0
        }
        func leave(_ lane: Int) {
            lock.wait()
            running[lane, default: 0] -= 1
            lock.signal()
        }
        var peaks: [Int: Int] {
            lock.wait()
            defer { lock.signal() }
            return peak
        }
    }

    @Test func deliversInTheTargetsOrderWhateverOrderTheyFinishIn() {
        // Item i finishes only after item i+1: the last finishes first.
        let count = 16
        let finished = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        var delivered: [Int] = []
        FanOut.run(
            lanes: Array(repeating: 0, count: count), limit: { _ in count },
            work: { index -> String in
                if index + 1 < count { finished[index + 1].wait() }
                finished[index].signal()
                return "item \(index)"
            },
            deliver: { index, result in
                #expect(result == "item \(index)")
                delivered.append(index)
            })
        #expect(delivered == Array(0..<count))
    }

    @Test func runsAtMostTheLimitAtOnceInEachLane() {
        // 40 items in lane 0 (limit 3) and 20 in lane 1 (limit 5): the first `limit` items
        // of each lane wait until that many are running, so the bound is reached, and no
        // item ever sees more than the bound.
        let lanes = Array(repeating: 0, count: 40) + Array(repeating: 1, count: 20)
        let limits = [0: 3, 1: 5]
        let gauge = Gauge()
        let full = [0: DispatchSemaphore(value: 0), 1: DispatchSemaphore(value: 0)]
        var delivered = 0
        FanOut.run(
            lanes: lanes, limit: { limits[$0] ?? 1 },
            work: { index -> Int in
                let lane = lanes[index]
                let limit = limits[lane] ?? 1
                let now = gauge.enter(lane)
                let position = lanes[..<index].count { $0 == lane }
                if position < limit {
                    // The limit-th of the first items opens the gate for all of them.
                    if now == limit { for _ in 0..<limit { full[lane]?.signal() } }
                    full[lane]?.wait()
                }
                gauge.leave(lane)
                return index
            },
            deliver: { index, result in
                #expect(index == result)
                delivered += 1
            })
        #expect(delivered == lanes.count)
        #expect(gauge.peaks == [0: 3, 1: 5])
    }

    @Test func aLimitOfOneRunsOneAtATime() {
        let gauge = Gauge()
        FanOut.run(
            lanes: Array(repeating: 7, count: 12), limit: { _ in 1 },
            work: { _ -> Int in
                let now = gauge.enter(7)
                gauge.leave(7)
                return now
            },
            deliver: { _, running in #expect(running == 1) })
        #expect(gauge.peaks == [7: 1])
    }

    @Test func nothingToDoDeliversNothing() {
        var calls = 0
        FanOut.run(lanes: [], limit: { _ in 8 }, work: { $0 }, deliver: { _, _ in calls += 1 })
        #expect(calls == 0)
    }

    @Test func exitStatusIsTheFirstFailingCodeInOrder() {
        #expect(FanOut.summary([0, 0, 0]) == (0, 0))
        #expect(FanOut.summary([0, 3, 2, 0, 1]) == (3, 3))
        #expect(FanOut.summary([2]) == (2, 1))
        #expect(FanOut.summary([]) == (0, 0))
        #expect(FanOut.summary([0, 255, 0]) == (255, 1))
    }
}
