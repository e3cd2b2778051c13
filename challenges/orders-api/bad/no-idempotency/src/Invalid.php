<?php

declare(strict_types=1);

/**
 * A request that does not validate: answered 422 validation_failed.
 */
final class Invalid extends RuntimeException
{
}
