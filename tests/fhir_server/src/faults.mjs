// Test-only fault injection, driven through POST /_control/... (outside the FHIR base path):
//   POST /_control/fail?count=N&status=503[&retry_after=S]  the next N FHIR requests fail with
//        that status and an OperationOutcome; status=0 drops the connection without an answer
//   POST /_control/delay?ms=M[&count=N]  delay the next N FHIR requests (every one if no count)
//   POST /_control/reset                 forget all injected faults
//   POST /_control/clear                 empty the repository (the same as a restart)

const MAX_DELAY_MS = 600_000;

export class FaultInjector {
  #failures = [];
  #delay = { ms: 0, remaining: 0 };

  failNext(count, status, retryAfterSeconds) {
    this.#failures.push({ remaining: count, status, retryAfterSeconds });
  }

  delayNext(ms, count) {
    this.#delay = { ms, remaining: count };
  }

  reset() {
    this.#failures = [];
    this.#delay = { ms: 0, remaining: 0 };
  }

  /** @returns {{status: number, retryAfterSeconds?: number} | undefined} The failure for this request. */
  takeFailure() {
    const failure = this.#failures[0];
    if (!failure) {
      return undefined;
    }
    failure.remaining -= 1;
    if (failure.remaining <= 0) {
      this.#failures.shift();
    }
    return { status: failure.status, retryAfterSeconds: failure.retryAfterSeconds };
  }

  /** @returns {number} How long to hold this request before answering it. */
  takeDelayMs() {
    if (this.#delay.remaining <= 0) {
      return 0;
    }
    this.#delay.remaining -= 1;
    return this.#delay.ms;
  }
}

/**
 * Applies one control request.
 * @param {string} action - The path segment after /_control/.
 * @param {URLSearchParams} params - The query parameters.
 * @param {{faults: FaultInjector, clearRepository: () => Promise<void>}} target
 * @returns {Promise<{status: number, body: object}>} The JSON answer.
 */
export async function applyControl(action, params, { faults, clearRepository }) {
  try {
    switch (action) {
      case 'fail': {
        const count = readInteger(params, 'count', 1, 0, 1_000_000);
        const status = readInteger(params, 'status', 503, 0, 599);
        if (status !== 0 && status < 400) {
          throw new RangeError('status must be 0 (drop the connection) or an error status (400-599)');
        }
        const retryAfter = params.has('retry_after') ? readInteger(params, 'retry_after', 0, 0, 86_400) : undefined;
        faults.failNext(count, status, retryAfter);
        return ok({ action, count, status });
      }
      case 'delay': {
        const ms = readInteger(params, 'ms', 0, 0, MAX_DELAY_MS);
        const count = params.has('count') ? readInteger(params, 'count', 1, 0, 1_000_000) : Number.POSITIVE_INFINITY;
        faults.delayNext(ms, count);
        return ok({ action, ms, count: Number.isFinite(count) ? count : null });
      }
      case 'reset':
        faults.reset();
        return ok({ action });
      case 'clear':
        await clearRepository();
        return ok({ action });
      default:
        return { status: 404, body: { error: `unknown control action: ${action}` } };
    }
  } catch (err) {
    return { status: 400, body: { error: err.message } };
  }
}

function ok(details) {
  return { status: 200, body: { ok: true, ...details } };
}

function readInteger(params, name, fallback, min, max) {
  const raw = params.get(name);
  if (raw === null) {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
