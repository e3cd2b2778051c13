<?php

declare(strict_types=1);

/**
 * A URL slug.
 */
function slugify(string $text): string
{
    return strtolower($text);
}
