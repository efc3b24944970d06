// Runs tasks one at a time, in arrival order. Every call into the repository goes through one
// queue, so a transaction's snapshot/restore never interleaves with another request and
// concurrent conditional creates see each other's results.
export class SerialQueue {
  #tail = Promise.resolve();

  /**
   * @template T
   * @param {() => Promise<T>} task
   * @returns {Promise<T>} The task's result, once every earlier task has settled.
   */
  run(task) {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
