<?php

declare(strict_types=1);

/**
 * A helper beside the tests (not a test file): shared cases.
 */
final class SlugCases
{
    /**
     * @return array<string, array{string, string}>
     */
    public static function all(): array
    {
        return [
            'punctuation' => ['Hello, World!', 'hello-world'],
            'spaces' => ['  many   spaces  ', 'many-spaces'],
            'unicode' => ['Ünïcödé Straße 2', 'ünïcödé-straße-2'],
        ];
    }
}
