# frozen_string_literal: true

# The grader's RSpec runner: loads each spec file itself (a file that fails to load
# costs only its own examples) and reports through GraderFormatter.
require_relative "grader_common"
require "rspec/core"

# Records every example; the XML is written once, at the end of the process.
class GraderFormatter
  RSpec::Core::Formatters.register self, :example_started, :example_passed,
                                   :example_failed, :example_pending, :close

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
      add(@current, :error, "the process exited while this example ran (exit or a crash)", "") if @current
      GraderResults.write(@cases, @load_errors)
    end

    def add(example, status, message, detail)
      @current = nil
      rel = GraderResults.relative(example.metadata[:absolute_file_path] || example.file_path)
      group = example.example_group
      classname = rel == "<sentinel>" ? "grader.sentinel" : group.parent_groups.reverse.map(&:description).join(" ")
      time = example.execution_result.run_time
      @cases << GraderResults::Case.new(rel, classname, example.description, status, message, detail, time)
    end
  end

  def initialize(_output); end

  def example_started(notification)
    self.class.current = notification.example
  end

  def example_passed(notification)
    self.class.add(notification.example, :passed, "", "")
  end

  def example_failed(notification)
    ex = notification.example.execution_result.exception
    status = ex.is_a?(RSpec::Expectations::ExpectationNotMetError) ? :failed : :error
    status = :failed if defined?(RSpec::Expectations::MultipleExpectationsNotMetError) &&
                        ex.is_a?(RSpec::Expectations::MultipleExpectationsNotMetError)
    message, detail = GraderResults.describe(ex)
    self.class.add(notification.example, status, message, detail)
  end

  def example_pending(notification)
    self.class.add(notification.example, :skipped, notification.example.execution_result.pending_message.to_s, "")
  end

  def close(_notification)
    self.class.write_once
  end
end

at_exit { GraderFormatter.write_once }
require "rspec/expectations"
require "rspec/mocks"

files = ARGV.dup
ARGV.clear
options = RSpec::Core::ConfigurationOptions.new(
  ["--format", "GraderFormatter", "--format", "progress", "--no-color", "--order", "defined"]
)
runner = RSpec::Core::Runner.new(options)
runner.setup($stderr, $stdout)

# Before and after every example, expectations must still fail on what is false: code
# that rewrote them (to pass everything) fails every example it ran in from then on.
module GraderHonesty
  TAMPERED = "grader: the test framework was tampered with (an expectation passes what is false)"
  CHECKS = [
    -> { expect(1).to eq(2) }, -> { expect(true).to be(false) }, -> { expect([1]).to include(2) },
    -> { expect(1).not_to eq(1) }, -> { expect { nil }.to raise_error(ArgumentError) },
    -> { expect(nil).to be_truthy }
  ].freeze

  def self.check!(example)
    # Raise on failure even where the example aggregates failures (:aggregate_failures).
    saved = RSpec::Support.failure_notifier
    RSpec::Support.failure_notifier = RSpec::Support::DEFAULT_FAILURE_NOTIFIER
    honest = CHECKS.all? do |check|
      example.instance_exec(&check)
      false
    rescue RSpec::Expectations::ExpectationNotMetError
      true
    end
    raise TAMPERED unless honest
  ensure
    RSpec::Support.failure_notifier = saved
  end
end
RSpec.configure do |config|
  config.before(:each) { GraderHonesty.check!(self) }
  config.after(:each) { GraderHonesty.check!(self) }
end
files.each do |f|
  before = RSpec.world.example_groups.dup
  begin
    load File.expand_path(f)
    next
  rescue Exception => e # rubocop:disable Lint/RescueException -- SyntaxError, LoadError, exit
    # Nothing of a file that did not load runs: its groups defined so far go too.
    RSpec.world.example_groups.replace(before)
  end
  GraderFormatter.load_errors << [GraderResults.relative(f),
                                  "#{e.class}: #{e.message}\n#{Array(e.backtrace).first(20).join("\n")}"]
end
exit runner.run_specs(RSpec.world.ordered_example_groups).to_i
