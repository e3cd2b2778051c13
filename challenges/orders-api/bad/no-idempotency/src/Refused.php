<?php

declare(strict_types=1);

/**
 * Why the store refused a request; the message is the API's error code.
 */
final class Refused extends RuntimeException
{
}
