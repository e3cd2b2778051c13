# frozen_string_literal: true

# The grader's Minitest reporter, loaded (ruby -r) before the test files.
require_relative "grader_common"

module GraderMinitest
  @cases = []
  @load_errors = []
  @current = nil
  @written = false

  class << self
    attr_reader :cases, :load_errors
    attr_accessor :current

    def write_once
      return if @written

      @written = true
      if @current
        klass, name = @current
        file = begin
          klass.instance_method(name).source_location&.first
        rescue NameError
          nil
        end
        @cases << GraderResults::Case.new(GraderResults.relative(file), klass.name, name, :error,
                                          "the process exited while this test ran (exit or a crash)",
                                          "", 0)
      end
      GraderResults.write(@cases, @load_errors)
    end
  end
end

# Registered before Minitest's own at_exit, so it runs after it: also when a test
# calls exit and Minitest.run never returns.
at_exit { GraderMinitest.write_once }
require "minitest"
require "minitest/autorun"

module Minitest
  # Records every result; the XML is written once, at the end of the process.
  class GraderReporter < AbstractReporter
    def prerecord(klass, name)
      GraderMinitest.current = [klass, name]
    end

    def record(result)
      GraderMinitest.current = nil
      file = result.source_location&.first
      status = if result.skipped? then :skipped
               elsif result.error? then :error
               elsif result.passed? then :passed
               else :failed
               end
      failure = result.failures.first
      message, detail = failure ? GraderResults.describe(failure) : ["", ""]
      rel = GraderResults.relative(file)
      classname = rel == "<sentinel>" ? "grader.sentinel" : result.klass
      GraderMinitest.cases << GraderResults::Case.new(rel, classname, result.name, status,
                                                      message, detail, result.time)
    end

    def report
      GraderMinitest.write_once
    end
  end

  def self.plugin_grader_init(_options)
    reporter << GraderReporter.new
  end
end
Minitest.extensions << "grader" unless Minitest.extensions.include?("grader")

# Before and after every test, the assertions must still fail on what is false: code
# that rewrote them (to pass everything) fails every test it ran in from then on.
module GraderHonesty
  TAMPERED = "grader: the test framework was tampered with (an assertion passes what is false)"
  CHECKS = [
    -> { assert_equal(1, 2) }, -> { assert(false) }, -> { refute(true) }, -> { flunk },
    -> { assert_nil(1) }, -> { assert_includes([1], 2) }, -> { assert_raises(ArgumentError) { nil } }
  ].freeze

  def before_setup
    grader_still_honest!
    super
  end

  def after_teardown
    super
    grader_still_honest!
  end

  private

  def grader_still_honest!
    saved = assertions
    honest = CHECKS.all? do |check|
      instance_exec(&check)
      false
    rescue Minitest::Assertion
      true
    end
    self.assertions = saved
    raise TAMPERED unless honest
  end
end
Minitest::Test.prepend(GraderHonesty)

files = ARGV.dup
ARGV.clear
files.each do |f|
  before = Minitest::Runnable.runnables.dup
  begin
    require f
    next
  rescue Exception => e # rubocop:disable Lint/RescueException -- SyntaxError, LoadError, exit
    # Nothing of a file that did not load runs: its test classes defined so far go too.
    Minitest::Runnable.runnables.replace(before)
  end
  GraderMinitest.load_errors << [GraderResults.relative(f),
                                 "#{e.class}: #{e.message}\n#{Array(e.backtrace).first(20).join("\n")}"]
end
