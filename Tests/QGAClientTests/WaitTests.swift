@testable import QGAClient
import QGAProtocol
import QGASystem
import Testing

/// The wait machinery behind `qga wait` and `reboot --wait` on virtual time: the backoff
/// schedule, the deadline, which failures are tried again, and a polling watch whose
/// attempts are bounded by the time left.
@Suite struct WaitTests {
    /// A wait clock on `clock`: pausing only moves virtual time, and is recorded.
    final class Pauses {
        var taken: [Duration] = []
        func clock(_ clock: TestClock) -> WaitClock {
            WaitClock(now: { clock.now }) { [self] duration in
                taken.append(duration)
                clock.advance(by: duration)
            }
        }
    }

    @Test func backoffDoublesFromTenMillisecondsToHalfASecond() {
        var backoff = Backoff()
        let pauses = (0..<9).map { _ in backoff.pause() }
        #expect(pauses == [10, 20, 40, 80, 160, 320, 500, 500, 500].map { Duration.milliseconds($0) })
    }

    @Test func retriesUntilTheDeadlineAndNeverPausesPastIt() {
        let clock = TestClock()
        let pauses = Pauses()
        let deadline = Deadline.after(.seconds(1), from: clock.now)
        var attempts: [Duration] = []
        var lefts: [Duration] = []
        #expect(throws: ClientError.self) {
            try retrying(until: deadline, clock: pauses.clock(clock)) { left throws(ClientError) in
                attempts.append(clock.elapsed)
                lefts.append(left)
                throw ClientError(.unreachable, "no socket")
            }
        }
        // 10 + 20 + 40 + 80 + 160 + 320 = 630 ms, then the 370 ms left instead of 500.
        #expect(pauses.taken == [10, 20, 40, 80, 160, 320, 370].map { Duration.milliseconds($0) })
        #expect(attempts.count == 8)
        #expect(attempts.last == .seconds(1))
        #expect(lefts.first == .seconds(1) && lefts.last == .zero)
    }

    @Test func theLastFailureKeepsItsCode() {
        for code in [ClientError.Code.unreachable, .notResponding] {
            let clock = TestClock()
            var error: ClientError?
            do {
                try retrying(until: .after(.milliseconds(100), from: clock.now), clock: Pauses().clock(clock)) {
                    _ throws(ClientError) in throw ClientError(code, "nope")
                }
            } catch let e { error = e }
            #expect(error?.code == code)
        }
    }

    @Test func answersAndBrokenAgentsAreNotRetried() {
        for code in [ClientError.Code.agentError(AgentError(errorClass: "GenericError", desc: "no")), .protocolViolation, .invalidRequest] {
            let clock = TestClock()
            let pauses = Pauses()
            var attempts = 0
            #expect(throws: ClientError.self) {
                try retrying(until: .after(.seconds(60), from: clock.now), clock: pauses.clock(clock)) { _ throws(ClientError) in
                    attempts += 1
                    throw ClientError(code, "final")
                }
            }
            #expect(attempts == 1)
            #expect(pauses.taken.isEmpty)
        }
    }

    @Test func returnsAtTheFirstSuccess() throws {
        let clock = TestClock()
        var attempts = 0
        let value = try retrying(until: .after(.seconds(60), from: clock.now), clock: Pauses().clock(clock)) {
            _ throws(ClientError) -> Int in
            attempts += 1
            if attempts < 4 { throw ClientError(.notResponding, "not yet") }
            return attempts
        }
        #expect(value == 4)
        #expect(clock.elapsed == .milliseconds(10 + 20 + 40))
    }

    /// A silent agent: the sync would wait 5 s, but the attempt gets only the time left, so
    /// the watch gives up at its deadline exactly, with "not responding".
    @Test func aSilentAgentEndsTheWatchAtItsDeadline() {
        let clock = TestClock()
        var connections = 0
        let watch = PollingWatch(label: "scripted", clock: Pauses().clock(clock)) { options throws(ClientError) in
            connections += 1
            #expect(options.syncTimeout <= .seconds(1))
            return ScriptedAgent(clock: clock) { _ in [] }.session()
        }
        var error: ClientError?
        do {
            try watch.untilAnswering(by: .after(.seconds(1), from: clock.now), options: CallOptions())
        } catch let e { error = e }
        #expect(error?.code == .notResponding)
        #expect(clock.elapsed == .seconds(1))
        #expect(connections == 1)
    }

    /// Nothing to connect to at first, then an agent that answers: found at the next attempt.
    @Test func aSocketThatAppearsIsFoundAtTheNextAttempt() throws {
        let clock = TestClock()
        var connections = 0
        var agent: ScriptedAgent?
        let watch = PollingWatch(label: "scripted", clock: Pauses().clock(clock)) { _ throws(ClientError) in
            connections += 1
            guard clock.elapsed >= .milliseconds(50) else { throw ClientError(.unreachable, "no agent socket here") }
            let scripted = ScriptedAgent(clock: clock, respond: Agent.answering { _ in [.text(#"{"return": {}}"# + "\n")] })
            agent = scripted
            return scripted.session()
        }
        try watch.untilAnswering(by: .after(.seconds(60), from: clock.now), options: CallOptions())
        // Attempts at 0, 10, 30 and 70 ms: the fourth finds it.
        #expect(connections == 4)
        #expect(clock.elapsed == .milliseconds(70))
        #expect(agent?.commands == ["guest-sync-delimited", "guest-ping"])
    }
}
