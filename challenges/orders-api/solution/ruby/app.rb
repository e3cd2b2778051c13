# frozen_string_literal: true

require 'json'
require 'sinatra/base'
require_relative 'store'
require_relative 'validation'

# Orders and inventory over HTTP (Sinatra), kept in PostgreSQL.
class OrdersApi < Sinatra::Base
  STATUS = {
    'validation_failed' => 422, 'not_found' => 404, 'unknown_product' => 422, 'sku_taken' => 409,
    'insufficient_stock' => 409, 'idempotency_key_reused' => 409, 'already_cancelled' => 409
  }.freeze
  ID = /\A[1-9]\d{0,17}\z/

  configure do
    set :store, Store.new(ENV.fetch('DATABASE_URL')).tap(&:create_schema)
    # Refusals are answers, not errors: only unexpected ones are logged (below).
    set :show_exceptions, false
    set :raise_errors, false
    set :dump_errors, false
  end

  before { content_type :json }

  helpers do
    # The request body, parsed (a body that is not JSON does not validate).
    def body_json
      JSON.parse(request.body.read)
    rescue JSON::ParserError
      raise Invalid, 'body: not JSON'
    end

    # The :id of the path; it names nothing unless it is a positive integer.
    def path_id
      raise Refused, 'not_found' unless ID.match?(params['id'])

      Integer(params['id'], 10)
    end

    # The error body every failure has: {"error": {"code", "message"}}.
    def error_json(code, message)
      status STATUS.fetch(code, 500)
      JSON.generate(error: { code:, message: })
    end

    # The service's store (one for the process, shared by every request thread).
    def store
      settings.store
    end
  end

  get '/healthz' do
    JSON.generate(status: 'ok')
  end

  post '/products' do
    status 201
    JSON.generate(store.insert_product(Validation.new_product(body_json)))
  end

  get '/products' do
    limit, offset = Validation.page(params)
    items, total = store.products(limit, offset, Validation.flag(params['in_stock'], 'in_stock'))
    JSON.generate(items:, total:, limit:, offset:)
  end

  get '/products/:id' do
    JSON.generate(store.product(path_id))
  end

  post '/products/:id/stock' do
    id = path_id
    JSON.generate(store.change_stock(id, Validation.stock_delta(body_json)))
  end

  post '/orders' do
    customer, items = Validation.new_order(body_json)
    key = request.env['HTTP_IDEMPOTENCY_KEY']
    raise Invalid, 'Idempotency-Key: at most 200 characters' if key && key.length > 200

    order, replayed = store.place_order(customer, items, key)
    status replayed ? 200 : 201
    JSON.generate(order)
  end

  get '/orders' do
    limit, offset = Validation.page(params)
    customer = params['customer']
    raise Invalid, 'customer: one value' unless customer.nil? || customer.is_a?(String)

    items, total = store.orders(limit, offset, customer, Validation.order_status(params['status']))
    JSON.generate(items:, total:, limit:, offset:)
  end

  get '/orders/:id' do
    JSON.generate(store.order(path_id))
  end

  post '/orders/:id/cancel' do
    JSON.generate(store.cancel(path_id))
  end

  error(Invalid) { error_json('validation_failed', env['sinatra.error'].message) }
  error(Refused) { error_json(env['sinatra.error'].message, env['sinatra.error'].message) }
  error(500) do
    boom = env['sinatra.error']
    warn "#{boom.class}: #{boom.message}\n  #{boom.backtrace&.first(5)&.join("\n  ")}" if boom
    error_json('internal', 'internal error')
  end
  not_found { error_json('not_found', "no route #{request.request_method} #{request.path_info}") }
end
