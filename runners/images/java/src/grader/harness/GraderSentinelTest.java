package grader.harness;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/** The harness's sentinel: it always fails, so a run that reports it passed was rewritten. */
class GraderSentinelTest {
  @Test
  void sentinel() {
    fail("the grader's sentinel check always fails");
  }
}
